// Swagger UI for /docs, served from this origin (no CDN); swagger-ui-bundle.js defines SwaggerUIBundle.
SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  persistAuthorization: false,
  withCredentials: false,
});
