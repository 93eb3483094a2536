// Applies the saved theme before the first paint ("light", "dark" or the system's).
// The one classic script: it must block rendering, which a (deferred) module cannot;
// it defines nothing. The theme controls live in the app.js module.
try {
  const saved = window.localStorage.getItem("draftsmith-theme");
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
} catch (_) { /* storage unavailable: follow the system */ }
