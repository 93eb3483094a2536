// The one way page scripts call the API: same-origin, cookie credentials, CSRF header.
// No token is ever visible here: the session lives in httpOnly cookies.
(function () {
  "use strict";

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-cookie"]');
    const name = meta ? meta.content : "ds_csrf";
    for (const part of document.cookie.split(";")) {
      const [key, ...rest] = part.trim().split("=");
      if (key === name) return decodeURIComponent(rest.join("="));
    }
    return "";
  }

  class ApiError extends Error {
    constructor(status, code, detail) {
      super(typeof detail === "string" ? detail : "The request was not valid.");
      this.status = status;
      this.code = code;
      this.detail = detail;
    }
  }

  function toLogin() {
    const next = window.location.pathname + window.location.search;
    window.location.assign("/login?next=" + encodeURIComponent(next));
  }

  async function request(method, path, { json, body, headers = {}, raw = false } = {}) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
    if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrfToken();
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (body !== undefined) {
      init.body = body;
    }
    const response = await fetch(path, init);
    if (response.status === 401) {
      toLogin();
      throw new ApiError(401, "not_authenticated", "Your session has ended; please sign in again.");
    }
    if (raw) return response;
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = data && data.detail !== undefined ? data.detail : response.statusText;
      throw new ApiError(response.status, data && data.code, Array.isArray(detail) ? describe(detail) : detail);
    }
    return data;
  }

  function describe(errors) {
    return errors.map((e) => `${(e.loc || []).slice(1).join(".") || "input"}: ${e.msg}`).join("; ");
  }

  // Upload with progress (fetch cannot report upload progress); same credentials and CSRF header.
  function upload(path, formData, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      xhr.withCredentials = true;
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress && onProgress(e.loaded / e.total);
      xhr.onerror = () => reject(new ApiError(0, "network_error", "The upload failed: network error."));
      xhr.onload = () => {
        if (xhr.status === 401) { toLogin(); return; }
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(new ApiError(xhr.status, data && data.code, (data && data.detail) || xhr.statusText));
      };
      xhr.send(formData);
    });
  }

  // Fill CSRF fields of plain HTML forms (e.g. sign out) from the cookie.
  document.addEventListener("DOMContentLoaded", () => {
    for (const input of document.querySelectorAll("input[data-csrf]")) input.value = csrfToken();
  });

  window.api = {
    get: (path, opts) => request("GET", path, opts),
    post: (path, json, opts = {}) => request("POST", path, { ...opts, json }),
    patch: (path, json, opts = {}) => request("PATCH", path, { ...opts, json }),
    del: (path, opts) => request("DELETE", path, opts),
    request,
    upload,
    csrfToken,
    ApiError,
  };
})();
