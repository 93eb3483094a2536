// Account: change the password, sign out everywhere and delete the account, through the API.
import { api } from "./api.js";
import { byId as $, confirmDialog, errorMessage, showMessage } from "./ui.js";

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

// Both end this browser's session too: the server clears its cookies and site data.
$("logout-all").addEventListener("click", async () => {
  const ok = await confirmDialog({
    title: "Sign out everywhere?",
    body: "Every browser and app using your account is signed out, this one included.",
    confirm: "Sign out everywhere",
    danger: true,
  });
  if (!ok) return;
  try {
    await api.post("/api/v1/auth/logout-all");
    window.location.assign("/login?signed_out=all");
  } catch (error) {
    const box = $("account-result");
    box.className = "alert alert-error";
    showMessage(box, errorMessage(error));
  }
});

const deleteDialog = $("delete-dialog");
const deleteForm = $("delete-form");
const deletePassword = $("delete_password");

$("delete-account").addEventListener("click", () => {
  deleteForm.reset();
  showMessage($("delete-result"), "");
  deletePassword.removeAttribute("aria-invalid");
  deleteDialog.showModal();
  deletePassword.focus();
});
$("delete-cancel").addEventListener("click", () => deleteDialog.close());

deleteForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = deletePassword.value;
  if (!password) {
    showMessage($("delete-result"), "Enter your password to confirm.");
    deletePassword.setAttribute("aria-invalid", "true");
    return deletePassword.focus();
  }
  const button = deleteForm.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api.del("/api/v1/auth/me", { password });
    window.location.assign("/login?signed_out=deleted");
  } catch (error) {
    showMessage($("delete-result"), errorMessage(error));
    deletePassword.setAttribute("aria-invalid", "true");
    deletePassword.select();
    button.disabled = false;
  }
});
