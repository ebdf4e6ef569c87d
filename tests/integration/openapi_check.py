"""Check HTTP exchanges against openapi/openapi.yaml (OpenAPI 3.1).

Shared by the integration tests.  Stdlib plus Debian's python3-yaml and
python3-jsonschema (4.10: Draft 2020-12, which OpenAPI 3.1 schemas are).

    from openapi_check import OpenApi
    api = OpenApi.load()                      # SLUICE_SOURCE_DIR/openapi/openapi.yaml
    problems = api.check_document()           # [] when the document is sound
    problems = api.check_response("GET", "/v1/target-groups/web", 200, headers, body)
    problems = api.check_request("POST", "/v1/target-groups", body)

Every check returns a list of problem strings (empty = valid), so a test can
report all of them.  Responses are looked up by the path template matching
the raw request path (query string ignored), the method and the status:
- no template matches: only a 404 with the Error schema is valid;
- the method is not offered: only components/responses/MethodNotAllowed;
- otherwise the operation must document that exact status; the body must
  match its application/json schema (or be empty when it has no content),
  and its required headers (Location, Allow) must be present.
Schemas are validated in place inside the whole document, so every
"#/components/..." reference resolves against it.
"""
import json
import os
import re

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SOURCE = os.environ.get("SLUICE_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")


def _unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def _escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


class OpenApi:
    def __init__(self, doc):
        self.doc = doc
        self._validators = {}
        self._routes = []
        for template in doc.get("paths", {}):
            names = re.findall(r"\{([^}/]+)\}", template)
            rx = "^" + re.sub(r"\\\{[^}/]+\\\}", "([^/]+)", re.escape(template)) + "$"
            literal = len(template) - sum(len(n) + 2 for n in names)
            self._routes.append((literal, template, re.compile(rx)))
        # Prefer the template with the most literal characters.
        self._routes.sort(key=lambda r: -r[0])

    @classmethod
    def load(cls, path=None):
        path = path or os.path.join(SOURCE, "openapi", "openapi.yaml")
        with open(path, encoding="utf-8") as f:
            return cls(yaml.safe_load(f))

    # ---- references -------------------------------------------------------
    def pointer_get(self, pointer):
        """The value at JSON pointer "#/a/b" in the document (KeyError if none)."""
        if not pointer.startswith("#"):
            raise KeyError("external reference %r" % pointer)
        node = self.doc
        for token in [t for t in pointer[1:].split("/") if t != ""]:
            token = _unescape(token)
            if isinstance(node, list):
                node = node[int(token)]
            else:
                node = node[token]
        return node

    def deref(self, node, pointer):
        """Follow $ref chains of an OpenAPI object; returns (object, its pointer)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise KeyError("reference loop at %s" % ref)
            seen.add(ref)
            node, pointer = self.pointer_get(ref), ref
        return node, pointer

    # ---- the document itself ------------------------------------------------
    def check_document(self):
        problems = []
        doc = self.doc
        if not str(doc.get("openapi", "")).startswith("3.1"):
            problems.append("openapi version is %r, want 3.1.x" % doc.get("openapi"))
        for key in ("info", "paths", "components"):
            if key not in doc:
                problems.append("document has no %r" % key)

        def walk(node, where):
            if isinstance(node, dict):
                if "$ref" in node:
                    try:
                        self.pointer_get(node["$ref"])
                    except (KeyError, IndexError, ValueError) as e:
                        problems.append("%s: $ref %r does not resolve (%s)" % (where, node["$ref"], e))
                for k, v in node.items():
                    walk(v, where + "/" + _escape(k))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, "%s/%d" % (where, i))
        walk(doc, "#")

        validator_cls = jsonschema.Draft202012Validator
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            try:
                validator_cls.check_schema(schema)
            except jsonschema.exceptions.SchemaError as e:
                problems.append("components/schemas/%s is not a valid schema: %s" % (name, e.message))

        op_ids = set()
        for template, item in doc.get("paths", {}).items():
            base = "#/paths/" + _escape(template)
            if not template.startswith("/"):
                problems.append("%s: path does not start with /" % template)
            ops = [m for m in METHODS if m in item]
            if not ops:
                problems.append("%s: no operations" % template)
            wanted = set(re.findall(r"\{([^}/]+)\}", template))
            for m in ops:
                op = item[m]
                where = "%s %s" % (m.upper(), template)
                declared = set()
                for p in item.get("parameters", []) + op.get("parameters", []):
                    try:
                        p, _ = self.deref(p, base)
                    except KeyError:
                        continue
                    if p.get("in") == "path":
                        declared.add(p.get("name"))
                        if not p.get("required"):
                            problems.append("%s: path parameter %s not required" % (where, p.get("name")))
                    if "schema" not in p:
                        problems.append("%s: parameter %s has no schema" % (where, p.get("name")))
                if declared != wanted:
                    problems.append("%s: path parameters %s declared as %s" %
                                    (where, sorted(wanted), sorted(declared)))
                oid = op.get("operationId")
                if not oid:
                    problems.append("%s: no operationId" % where)
                elif oid in op_ids:
                    problems.append("%s: operationId %s used twice" % (where, oid))
                op_ids.add(oid)
                responses = op.get("responses") or {}
                if not responses:
                    problems.append("%s: no responses" % where)
                if m in ("post", "put") and "requestBody" not in op:
                    problems.append("%s: no requestBody" % where)
                if "requestBody" in op:
                    try:
                        rb, _ = self.deref(op["requestBody"], base)
                        if "schema" not in rb.get("content", {}).get("application/json", {}):
                            problems.append("%s: requestBody has no application/json schema" % where)
                    except KeyError as e:
                        problems.append("%s: requestBody: %s" % (where, e))
                for status, resp in responses.items():
                    if not re.match(r"^[1-5][0-9][0-9]$", str(status)):
                        problems.append("%s: response key %r is not a status code" % (where, status))
                    try:
                        resp, _ = self.deref(resp, base)
                    except KeyError as e:
                        problems.append("%s %s: %s" % (where, status, e))
                        continue
                    if "description" not in resp:
                        problems.append("%s %s: no description" % (where, status))
                    content = resp.get("content")
                    if str(status) in ("204", "304"):
                        if content:
                            problems.append("%s %s: a %s has no body" % (where, status, status))
                    elif not content or not any("schema" in media for media in content.values()):
                        problems.append("%s %s: no schema for its body" % (where, status))
                    elif not {"application/json", "application/x-ndjson",
                              "text/plain", "application/x-pem-file"} & set(content):
                        problems.append("%s %s: body is neither JSON, NDJSON, text nor PEM" %
                                        (where, status))
        if "Error" not in doc.get("components", {}).get("schemas", {}):
            problems.append("components/schemas/Error missing")
        if "MethodNotAllowed" not in doc.get("components", {}).get("responses", {}):
            problems.append("components/responses/MethodNotAllowed missing")
        return problems

    # ---- exchanges ------------------------------------------------------------
    def match(self, path):
        """(template, path item) for a raw request path, or (None, None)."""
        path = path.split("?", 1)[0]
        for _, template, rx in self._routes:
            if rx.match(path):
                return template, self.doc["paths"][template]
        return None, None

    def _validator(self, pointer):
        v = self._validators.get(pointer)
        if v is None:
            root = dict(self.doc)
            root["$ref"] = pointer
            v = jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())
            self._validators[pointer] = v
        return v

    def validate(self, pointer, value):
        """Problems of <value> against the schema at <pointer>."""
        out = []
        for e in sorted(self._validator(pointer).iter_errors(value), key=lambda e: list(e.path)):
            loc = "/".join(str(p) for p in e.path)
            out.append("%s at '%s': %s" % (pointer, loc, e.message[:300]))
        return out

    def schema_pointer(self, name):
        return "#/components/schemas/" + name

    def response_spec(self, method, path, status):
        """(response object, its pointer, template) the exchange must satisfy, or
        (None, reason, template)."""
        template, item = self.match(path)
        status = str(status)
        if template is None:
            if status != "404":
                return None, "no path template matches %s, so only 404 is valid" % path, None
            return self.deref({"$ref": "#/components/responses/NotFound"}, "")[0], \
                "#/components/responses/NotFound", None
        m = method.lower()
        if m not in item:
            if status != "405":
                return None, "%s is not offered on %s, so only 405 is valid" % (method, template), template
            return self.pointer_get("#/components/responses/MethodNotAllowed"), \
                "#/components/responses/MethodNotAllowed", template
        responses = item[m].get("responses", {})
        if status not in responses:
            return None, "%s %s does not document status %s" % (method, template, status), template
        base = "#/paths/%s/%s/responses/%s" % (_escape(template), m, status)
        resp, pointer = self.deref(responses[status], base)
        return resp, pointer, template

    def check_response(self, method, path, status, headers, body):
        """<headers>: mapping (case-insensitive lookup done here); <body>: bytes."""
        resp, pointer, template = self.response_spec(method, path, status)
        if resp is None:
            return [pointer]
        problems = []
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        for name, h in (resp.get("headers") or {}).items():
            h, _ = self.deref(h, pointer)
            if h.get("required") and name.lower() not in hdrs:
                problems.append("%s %s -> %s: header %s missing" % (method, path, status, name))
            elif name.lower() in hdrs and "schema" in h:
                hptr = self.deref(resp["headers"][name], pointer)[1]
                if hptr == pointer:
                    hptr = "%s/headers/%s" % (pointer, _escape(name))
                for p in self.validate(hptr + "/schema", hdrs[name.lower()]):
                    problems.append("%s %s -> %s: header %s: %s" % (method, path, status, name, p))
        content = resp.get("content")
        if method.upper() == "HEAD":
            return problems  # a HEAD answer never has a body
        if not content:
            if body:
                problems.append("%s %s -> %s: expected no body, got %r" % (method, path, status, body[:200]))
            return problems
        media = content.get("application/json")
        ctype = hdrs.get("content-type", "")
        if media is None and "text/plain" in content and ctype.startswith("text/plain"):
            return problems  # text (container logs): any bytes
        if media is None or not ctype.startswith("application/json"):
            problems.append("%s %s -> %s: content type %r, want application/json" %
                            (method, path, status, ctype))
            return problems
        try:
            value = json.loads(body)
        except (ValueError, TypeError) as e:
            problems.append("%s %s -> %s: body is not JSON (%s): %r" % (method, path, status, e, body[:200]))
            return problems
        if "schema" in media:
            sch = media["schema"]
            ptr = sch["$ref"] if set(sch) == {"$ref"} else pointer + "/content/application~1json/schema"
            for p in self.validate(ptr, value):
                problems.append("%s %s -> %s: %s" % (method, path, status, p))
        return problems

    def check_request(self, method, path, body):
        """Problems of a JSON request body against the operation's requestBody."""
        template, item = self.match(path)
        if template is None or method.lower() not in item:
            return ["%s %s is not a documented operation" % (method, path)]
        op = item[method.lower()]
        if "requestBody" not in op:
            return [] if body is None else ["%s %s takes no body" % (method, template)]
        base = "#/paths/%s/%s/requestBody" % (_escape(template), method.lower())
        rb, pointer = self.deref(op["requestBody"], base)
        sch = rb["content"]["application/json"]["schema"]
        ptr = sch["$ref"] if set(sch) == {"$ref"} else pointer + "/content/application~1json/schema"
        return ["%s %s request: %s" % (method, path, p) for p in self.validate(ptr, body)]
