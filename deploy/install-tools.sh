#!/usr/bin/env bash
# Installs the tools that check the deployment files without running the stack (no container
# engine runs on the development machines or in CI):
#
#   promtool        (Debian package prometheus)               check config/rules, test rules
#   amtool          (Debian package prometheus-alertmanager)  check the Alertmanager config
#   docker-compose  (Debian package docker-compose)           `docker-compose config` on compose.yaml
#   systemd-analyze (Debian package systemd)                  verify deploy/systemd/haoqi.service
#   python3 + yaml  (Debian package python3-yaml)             YAML -> JSON for tests/tests/deploy.rs
#   chromium, chromedriver (Debian packages chromium, chromium-driver), with fonts-noto-cjk (Chinese
#                   in screenshots) and chromium-l10n (Chinese browser controls): the web
#                   application's browser tests (pipeline/tests/browser.rs)
#
# Idempotent: a tool already on PATH is left alone and nothing is fetched. Needs root and apt-get
# (Debian/Ubuntu). Only the command-line tools are wanted, so the packages' services are kept
# from starting during the install (policy-rc.d) and recommended packages are not pulled in.
#
#   deploy/install-tools.sh
set -euo pipefail

declare -A package_of=(
  [promtool]=prometheus
  [amtool]=prometheus-alertmanager
  [docker-compose]=docker-compose
  [systemd-analyze]=systemd
  [chromium]=chromium
  [chromedriver]=chromium-driver
)
tools=(promtool amtool docker-compose systemd-analyze chromium chromedriver)

missing=()
for tool in "${tools[@]}"; do
  if command -v "$tool" >/dev/null 2>&1; then
    echo "install-tools: $tool present ($(command -v "$tool"))"
  else
    echo "install-tools: $tool missing, will install Debian package ${package_of[$tool]}"
    missing+=("${package_of[$tool]}")
  fi
done
if python3 -c 'import yaml' >/dev/null 2>&1; then
  echo "install-tools: python3 with yaml present"
else
  echo "install-tools: python3 yaml module missing, will install Debian package python3-yaml"
  missing+=(python3-yaml)
fi

# Files, not commands: the CJK fonts and Chromium's Chinese locale.
cjk_font=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
zh_locale=/usr/lib/chromium/locales/zh-CN.pak
if [ -e "$cjk_font" ]; then
  echo "install-tools: CJK fonts present"
else
  echo "install-tools: CJK fonts missing, will install Debian package fonts-noto-cjk"
  missing+=(fonts-noto-cjk)
fi
if [ -e "$zh_locale" ]; then
  echo "install-tools: chromium zh-CN locale present"
else
  echo "install-tools: chromium zh-CN locale missing, will install Debian package chromium-l10n"
  missing+=(chromium-l10n)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-tools: nothing to do"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-tools: run as root to install: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-tools: apt-get not found; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi

# The prometheus and alertmanager packages would start their daemons (ports 9090, 9093) on a
# machine that only needs promtool/amtool. A policy-rc.d returning 101 tells invoke-rc.d not to;
# an existing policy (e.g. in a container image) is respected and left untouched.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "install-tools: apt-get update"
apt-get update -q
echo "install-tools: apt-get install ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-tools: $tool still missing" >&2; exit 1; }
done
for f in "$cjk_font" "$zh_locale"; do
  [ -e "$f" ] || { echo "install-tools: $f still missing" >&2; exit 1; }
done
python3 -c 'import yaml' || { echo "install-tools: python3 yaml still missing" >&2; exit 1; }
echo "install-tools: promtool $(promtool --version 2>&1 | head -n1 | awk '{print $3}'), amtool $(amtool --version 2>&1 | head -n1 | awk '{print $3}'), $(docker-compose version --short 2>/dev/null || echo docker-compose) ready"
