// The pages' own script (no inline script is allowed by the Content-Security-Policy). The pages
// work without it; it only adds conveniences.
document.addEventListener('DOMContentLoaded', function () {
  var link = document.querySelector('#new-kiosk-link code');
  if (link) {
    link.textContent = window.location.origin + link.textContent;
  }
});
