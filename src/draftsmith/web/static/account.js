// Account: change the password through the API.
import { api } from "./api.js";
import { byId as $, errorMessage } from "./ui.js";

const form = $("password-form");

function result(message, kind) {
  const box = $("password-result");
  box.className = `alert alert-${kind}`;
  box.textContent = message;
  box.hidden = false;
}

// Shows what is wrong with one field and puts the cursor there.
function invalid(id, message) {
  result(message, "error");
  $(id).setAttribute("aria-invalid", "true");
  $(id).focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const current = $("current_password").value;
  const next = $("new_password").value;
  for (const id of ["current_password", "new_password", "confirm_password"]) $(id).removeAttribute("aria-invalid");
  if (!current) return invalid("current_password", "Enter your current password.");
  if (next.length < 12) return invalid("new_password", "The new password needs at least 12 characters.");
  if (next !== $("confirm_password").value) return invalid("confirm_password", "The two new passwords don't match.");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api.post("/api/v1/auth/password", { current_password: current, new_password: next });
    form.reset();
    result("Password changed. Other sessions have been signed out.", "success");
  } catch (error) {
    result(errorMessage(error), "error");
    $(error.code === "wrong_password" ? "current_password" : "new_password").focus();
  } finally {
    button.disabled = false;
  }
});
