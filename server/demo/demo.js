// The demo's stand-in for a news site's sign-in: /demo/session mints a token (embedded default
// only) and the page hands it to the widget, as a real host page would after its own sign-in.
(function () {
  "use strict";
  var reader = null;
  var editorToken = null;

  function session(name, role) {
    var url = "/demo/session?name=" + encodeURIComponent(name) + (role ? "&role=" + role : "");
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error("sign-in refused");
      return r.json();
    });
  }

  function say(id, text) { document.getElementById(id).textContent = text; }

  function signIn(name) {
    return session(name).then(function (s) {
      reader = name;
      sessionStorage.setItem("baraza-demo-name", name);
      window.Baraza.setToken(s.token);
      say("demo-who", "Signed in as " + s.name + " (" + s.sub + ").");
    });
  }

  function ready() {
    window.Baraza.onTokenExpired(function () {
      return reader ? session(reader).then(function (s) { return s.token; }) : null;
    });
    var saved = sessionStorage.getItem("baraza-demo-name");
    if (saved) signIn(saved).catch(function () { say("demo-who", "Sign-in failed."); });

    document.getElementById("demo-signin").addEventListener("submit", function (e) {
      e.preventDefault();
      signIn(document.getElementById("demo-name").value.trim()).catch(function (err) {
        say("demo-who", err.message);
      });
    });
    document.getElementById("demo-signout").addEventListener("click", function () {
      reader = null;
      sessionStorage.removeItem("baraza-demo-name");
      window.Baraza.setToken(null);
      say("demo-who", "Signed out.");
    });
    document.getElementById("demo-live").addEventListener("submit", function (e) {
      e.preventDefault();
      var article = document.querySelector("[data-baraza=liveblog]").getAttribute("data-article-id");
      var body = document.getElementById("demo-entry").value;
      var key = document.getElementById("demo-key").checked;
      var token = editorToken ? Promise.resolve(editorToken) : session("Newsroom desk", "editor").then(function (s) {
        editorToken = s.token;
        return s.token;
      });
      token.then(function (t) {
        var headers = { "Authorization": "Bearer " + t, "Content-Type": "application/json" };
        var base = "/api/v1/articles/" + encodeURIComponent(article) + "/liveblog";
        return fetch(base, { method: "PUT", headers: headers, body: JSON.stringify({ status: "live", title: "Live updates" }) })
          .then(function () {
            return fetch(base + "/posts", { method: "POST", headers: headers, body: JSON.stringify({ body: body, key_event: key }) });
          });
      }).then(function (r) {
        say("demo-desk-status", r.ok ? "Published: it reaches every open page." : "Refused: HTTP " + r.status);
      }).catch(function () { say("demo-desk-status", "Could not publish."); });
    });
  }

  if (window.Baraza && window.Baraza.setToken) ready();
  else document.addEventListener("baraza:ready", ready);
})();
