// Account: change the password through the API.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);

  function result(message, kind) {
    const box = $("password-result");
    box.className = `alert alert-${kind}`;
    box.textContent = message;
    box.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = $("password-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const current = $("current_password").value;
      const next = $("new_password").value;
      const confirm = $("confirm_password").value;
      for (const id of ["current_password", "new_password", "confirm_password"]) $(id).removeAttribute("aria-invalid");
      if (!current) { result("Enter your current password.", "error"); $("current_password").setAttribute("aria-invalid", "true"); $("current_password").focus(); return; }
      if (next.length < 12) { result("The new password needs at least 12 characters.", "error"); $("new_password").setAttribute("aria-invalid", "true"); $("new_password").focus(); return; }
      if (next !== confirm) { result("The two new passwords don't match.", "error"); $("confirm_password").setAttribute("aria-invalid", "true"); $("confirm_password").focus(); return; }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await window.api.post("/api/v1/auth/password", { current_password: current, new_password: next });
        form.reset();
        result("Password changed. Other sessions have been signed out.", "success");
      } catch (error) {
        result(window.ui.errorMessage(error), "error");
        if (error.status === 400 || error.code === "invalid_credentials" || error.code === "wrong_password") $("current_password").focus();
        else $("new_password").focus();
      } finally {
        button.disabled = false;
      }
    });
  });
})();
