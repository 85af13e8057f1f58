// Starts the vendored swagger-ui on this server's own OpenAPI document. A file of its own
// (not an inline script), so the page's Content-Security-Policy can forbid inline scripts.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // No badge from the public validator service: nothing leaves this server.
    validatorUrl: null,
    persistAuthorization: false,
  });
});
