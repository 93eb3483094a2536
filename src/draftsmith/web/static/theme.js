// Applies the saved theme before the first paint ("light", "dark" or the system's).
(function () {
  "use strict";
  try {
    const saved = window.localStorage.getItem("draftsmith-theme");
    if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
  } catch (_) { /* storage unavailable: follow the system */ }
})();
