// Starts Swagger UI from the settings the page carries in data attributes (the page has no
// inline script: its Content-Security-Policy would refuse one).
(function () {
  "use strict";
  var box = document.getElementById("swagger-ui-container");
  var config = JSON.parse(box.dataset.config);
  config.url = box.dataset.specUrl;
  config.dom_id = "#swagger-ui-container";
  window.ui = SwaggerUIBundle(config);
})();
