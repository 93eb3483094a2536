// Swagger UI for /docs, served from this origin (no CDN).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  persistAuthorization: false,
  withCredentials: false,
});
