// Starts Swagger UI on /docs (kept out of the page so the CSP needs no 'unsafe-inline').
window.addEventListener("DOMContentLoaded", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
