/* The sluice dashboard: one document from GET /ui/api/state, kept current
 * by the server-sent events of GET /ui/api/events (read with fetch, so the
 * API token can go in a header).  Read-only: nothing here writes. */
(function () {
  "use strict";
  var token = sessionStorage.getItem("sluice-token") || "";
  var statusEl = document.getElementById("status");

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = "status " + (cls || "");
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag), k;
    for (k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function badge(text, testid) {
    var a = {"class": "badge " + text, text: text || "-"};
    if (testid) a["data-testid"] = testid;
    return el("span", a);
  }

  function table(head, rows, attrs) {
    return el("table", attrs, [
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", {text: h}); }))]),
      el("tbody", {}, rows)]);
  }

  function td(text, cls, testid) {
    var a = {text: text === undefined || text === null ? "" : String(text)};
    if (cls) a["class"] = cls;
    if (testid) a["data-testid"] = testid;
    return el("td", a);
  }

  function renderLbs(lbs) {
    var box = document.getElementById("lbs");
    box.replaceChildren();
    if (!lbs.length) box.appendChild(el("p", {"class": "muted", text: "none"}));
    lbs.forEach(function (lb) {
      var card = el("div", {"class": "card", "data-testid": "lb-" + lb.name}, [
        el("h3", {text: lb.name}),
        el("div", {"class": "muted", text: lb.scheme + " · " + lb.dns + " · " + lb.state})]);
      lb.listeners.forEach(function (l) {
        card.appendChild(el("div", {"data-testid": "listener-" + lb.name + "-" + l.port}, [
          el("b", {text: l.protocol + " :" + l.port}),
          table(["priority", "conditions", "actions"], l.rules.map(function (r) {
            return el("tr", {"data-testid": "rule-" + l.port + "-" + r.priority}, [
              td(r.priority), td(r.conditions.join("; ") || "(any)"), td(r.actions.join("; "))]);
          }))]));
      });
      box.appendChild(card);
    });
  }

  function renderTgs(tgs) {
    var box = document.getElementById("tgs");
    box.replaceChildren();
    if (!tgs.length) box.appendChild(el("p", {"class": "muted", text: "none"}));
    tgs.forEach(function (g) {
      var rows = g.targets.map(function (t) {
        var key = g.name + "-" + t.id + "-" + t.port;
        return el("tr", {"data-testid": "target-" + key}, [
          td(t.id + ":" + t.port),
          el("td", {}, [badge(t.state, "state-" + key)]),
          td(t.reason, "muted", "reason-" + key),
          td(t.description, "muted"),
          td(t.rps.toFixed(1), "num", "rps-" + key),
          td(t.requests, "num")]);
      });
      box.appendChild(el("div", {"class": "card", "data-testid": "tg-" + g.name}, [
        el("h3", {text: g.name}),
        el("div", {"class": "muted", text: g.protocol + " :" + g.port + " · health check " +
                                          g.health_check + " · " + g.targets.length + " targets"}),
        table(["target", "health", "reason", "description", "req/s", "requests"], rows)]));
    });
  }

  function renderService(c, s) {
    var key = c.name + "-" + s.name;
    var deps = s.deployments.map(function (d) {
      var td_ = d.taskDefinition.split("/").pop();
      return el("tr", {"data-testid": "deployment-" + key + "-" + td_}, [
        el("td", {}, [badge(d.status)]),
        el("td", {}, [badge(d.rolloutState, "rollout-" + key + "-" + td_)]),
        td(td_), td(d.desired, "num"), td(d.running, "num", "running-" + key + "-" + td_),
        td(d.pending, "num"), td(d.failed, "num"), td(d.rolloutStateReason, "muted")]);
    });
    var tasks = s.tasks.map(function (t) {
      return el("tr", {"data-testid": "task-" + t.id}, [
        td(t.id.slice(0, 12)), el("td", {}, [badge(t.lastStatus)]), td(t.desiredStatus),
        td(t.taskDefinition.split("/").pop()), td(t.hostPort, "num"), td(t.healthStatus)]);
    });
    return el("div", {"class": "card", "data-testid": "service-" + key}, [
      el("h3", {text: c.name + " / " + s.name}),
      el("div", {"class": "counts"}, [
        el("span", {}, [el("b", {text: s.desired, "data-testid": "desired-" + key}), el("span", {text: " desired"})]),
        el("span", {}, [el("b", {text: s.running, "data-testid": "svc-running-" + key}), el("span", {text: " running"})]),
        el("span", {}, [el("b", {text: s.pending}), el("span", {text: " pending"})])]),
      table(["deployment", "rollout", "task definition", "desired", "running", "pending",
             "failed", ""], deps),
      table(["task", "last status", "desired", "task definition", "host port", "health"], tasks),
      el("ul", {"class": "events", "data-testid": "events-" + key}, s.events.map(function (e) {
        var when = typeof e.createdAt === "number" ?
          new Date(e.createdAt * 1000).toISOString().slice(11, 19) : "";
        return el("li", {text: when + " " + e.message});
      }))]);
  }

  function renderEcs(clusters) {
    var box = document.getElementById("ecs");
    box.replaceChildren();
    if (!clusters.length) box.appendChild(el("p", {"class": "muted", text: "no clusters"}));
    clusters.forEach(function (c) {
      if (!c.services.length)
        box.appendChild(el("div", {"class": "card muted", text: c.name + ": no services"}));
      c.services.forEach(function (s) { box.appendChild(renderService(c, s)); });
    });
  }

  function render(doc) {
    renderLbs(doc.load_balancers);
    renderTgs(doc.target_groups);
    renderEcs(doc.clusters);
    document.getElementById("revision").textContent =
      "revision " + doc.revision + " · " + doc.time;
    document.body.setAttribute("data-revision", doc.revision);
  }

  function headers() {
    return token ? {"Authorization": "Bearer " + token} : {};
  }

  function askToken(message) {
    document.getElementById("app").hidden = true;
    document.getElementById("login").hidden = false;
    document.getElementById("login-error").textContent = message || "";
    setStatus("needs a token", "down");
  }

  document.getElementById("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    token = document.getElementById("token").value.trim();
    sessionStorage.setItem("sluice-token", token);
    document.getElementById("login").hidden = true;
    document.getElementById("app").hidden = false;
    connect();
  });

  /* Server-sent events over fetch: "event: state" frames carry the
   * document; comments keep the stream alive. */
  function connect() {
    setStatus("connecting");
    fetch("/ui/api/events", {headers: headers(), cache: "no-store"}).then(function (r) {
      if (r.status === 401 || r.status === 403) {
        askToken(token ? "That token was refused." : "");
        return null;
      }
      if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
      setStatus("live", "live");
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (res) {
          if (res.done) throw new Error("stream ended");
          buf += dec.decode(res.value, {stream: true});
          var i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            var frame = buf.slice(0, i), data = [];
            buf = buf.slice(i + 2);
            frame.split("\n").forEach(function (line) {
              if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
            });
            if (data.length) render(JSON.parse(data.join("\n")));
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      setStatus("reconnecting", "down");
      setTimeout(connect, 1000);
    });
  }

  connect();
})();
