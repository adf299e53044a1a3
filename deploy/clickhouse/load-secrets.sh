#!/bin/sh
# Entrypoint wrapper for the ClickHouse container: reads the haoqi users' passwords from the
# compose secrets (files under /run/secrets, kept outside the repository) into the environment
# variables users.d/haoqi.xml names (from_env), then hands over to the image's own entrypoint.
# ClickHouse can take a password from the environment but not from a file, hence this step.
# A missing or empty secret stops the container: a user must never come up without a password.
set -eu

read_secret() {
  file="/run/secrets/$1"
  if [ ! -s "$file" ]; then
    echo "load-secrets: $file is missing or empty; see deploy/README.md (secrets)" >&2
    exit 1
  fi
  # One line; a trailing newline from `openssl rand ... > file` is not part of the password.
  tr -d '\r\n' <"$file"
}

CLICKHOUSE_HAOQI_WRITER_PASSWORD="$(read_secret clickhouse_writer_password)"
CLICKHOUSE_GRAFANA_PASSWORD="$(read_secret clickhouse_grafana_password)"
export CLICKHOUSE_HAOQI_WRITER_PASSWORD CLICKHOUSE_GRAFANA_PASSWORD

exec /entrypoint.sh "$@"
