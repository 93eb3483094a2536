// What every page does: fill the CSRF fields of plain HTML forms (e.g. sign out) and
// drive the theme controls. theme.js applies the saved theme before the first paint.
import { csrfToken } from "./api.js";

const THEME_KEY = "draftsmith-theme";
const darkScheme = window.matchMedia("(prefers-color-scheme: dark)");

function currentTheme() {
  return document.documentElement.dataset.theme || (darkScheme.matches ? "dark" : "light");
}

function savedTheme() {
  try { return window.localStorage.getItem(THEME_KEY) || "system"; } catch (_) { return "system"; }
}

function setTheme(choice) {
  const fixed = choice === "light" || choice === "dark";
  try {
    if (fixed) window.localStorage.setItem(THEME_KEY, choice);
    else window.localStorage.removeItem(THEME_KEY);
  } catch (_) { /* storage unavailable */ }
  if (fixed) document.documentElement.dataset.theme = choice;
  else delete document.documentElement.dataset.theme;
  syncThemeControls();
}

function syncThemeControls() {
  const next = currentTheme() === "dark" ? "light" : "dark";
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.setAttribute("aria-label", `Switch to ${next} theme`);
    button.title = `Switch to ${next} theme`;
  }
  for (const radio of document.querySelectorAll('input[name="theme"]')) radio.checked = radio.value === savedTheme();
}

for (const input of document.querySelectorAll("input[data-csrf]")) input.value = csrfToken();
for (const button of document.querySelectorAll("[data-theme-toggle]")) {
  button.addEventListener("click", () => setTheme(currentTheme() === "dark" ? "light" : "dark"));
}
for (const radio of document.querySelectorAll('input[name="theme"]')) {
  radio.addEventListener("change", () => radio.checked && setTheme(radio.value));
}
darkScheme.addEventListener("change", syncThemeControls);
syncThemeControls();
