// The one way page scripts call the API: same-origin, cookie credentials, CSRF header.
// No token is ever visible here: the session lives in httpOnly cookies.

export function csrfToken() {
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

// An error answer is {detail, code}; a 422 from validation has a list of problems as its detail.
function errorFrom(status, data, statusText) {
  const detail = data && data.detail !== undefined ? data.detail : statusText;
  return new ApiError(status, data && data.code, Array.isArray(detail) ? describe(detail) : detail);
}

function describe(errors) {
  return errors.map((e) => `${(e.loc || []).slice(1).join(".") || "input"}: ${e.msg}`).join("; ");
}

// path`/api/v1/blogs/${id}/revisions/${n}`: every interpolated value is encoded as one path segment.
export function path(strings, ...values) {
  return strings.reduce((out, text, i) => out + encodeURIComponent(values[i - 1]) + text);
}

function toLogin() {
  const next = window.location.pathname + window.location.search;
  window.location.assign("/login?next=" + encodeURIComponent(next));
}

async function request(method, url, json) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") init.headers["X-CSRF-Token"] = csrfToken();
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  const response = await fetch(url, init);
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, "not_authenticated", "Your session has ended; please sign in again.");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw errorFrom(response.status, data, response.statusText);
  return data;
}

// Upload with progress (fetch cannot report upload progress); same credentials and CSRF header.
function upload(url, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.withCredentials = true;
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, "network_error", "The upload failed: network error."));
    xhr.onload = () => {
      if (xhr.status === 401) { toLogin(); return; }
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(errorFrom(xhr.status, data, xhr.statusText));
    };
    xhr.send(formData);
  });
}

export const api = {
  get: (url) => request("GET", url),
  post: (url, json) => request("POST", url, json),
  patch: (url, json) => request("PATCH", url, json),
  put: (url, json) => request("PUT", url, json),
  del: (url, json) => request("DELETE", url, json),
  upload,
};
