// Swagger UI for /openapi.json, from the copy inside the package (swagger-ui-dist, Apache-2.0; see
// swagger-ui.LICENSE.txt). No request leaves this server: no validator badge, no remote spec.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
  });
});
