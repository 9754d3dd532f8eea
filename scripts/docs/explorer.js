// The explorer page's start (scripts/docs/explorer.html.in): Swagger UI on the spec the page
// carries (nothing is fetched to render it), sending "Try it out" requests to this origin
// (the spec's server is "/"); no validator badge, no telemetry, nothing from elsewhere.
// On the dev stack (scripts/dev-up) the page also carries a JSON data block with the id
// commerce-dev-token, {"userId":1,"token":"…","expiresAt":"…"} (scripts/lib/nginx.sh puts it
// in): the bar then offers to authorise as that user with one click. The committed page, which
// production serves, has no such block.
(function () {
  'use strict';
  var spec = JSON.parse(document.getElementById('commerce-spec').textContent);
  var ui = window.SwaggerUIBundle({
    spec: spec,
    dom_id: '#swagger-ui',
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    validatorUrl: null,
    displayRequestDuration: true,
    showExtensions: false,
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
    persistAuthorization: false,
    withCredentials: false,
    supportedSubmitMethods: ['get', 'put', 'post', 'delete', 'patch', 'head'],
  });
  window.commerceExplorer = ui;

  var block = document.getElementById('commerce-dev-token');
  if (!block) return;
  var dev = JSON.parse(block.textContent);
  var bar = document.getElementById('commerce-dev');
  var text = document.createElement('span');
  text.textContent = 'Dev stack: an access token for user ' + dev.userId + ' (valid until ' +
    dev.expiresAt + '; scripts/dev-up makes a new one).';
  var button = document.createElement('button');
  button.type = 'button';
  button.id = 'commerce-dev-authorize';
  button.textContent = 'Authorize as user ' + dev.userId;
  button.addEventListener('click', function () {
    ui.preauthorizeApiKey('userAuth', dev.token);
    button.textContent = 'Authorized as user ' + dev.userId;
    button.disabled = true;
  });
  bar.appendChild(text);
  bar.appendChild(button);
})();
