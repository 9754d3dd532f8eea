#!/usr/bin/env python3
"""Write docs/commerce.http from docs/openapi.yaml: one request per operation of the spec.

Usage: scripts/docs/gen-http.py [SPEC.json] > docs/commerce.http
       (scripts/check-docs --rebuild does this; scripts/check-docs checks it is in step)

SPEC.json is docs/openapi.yaml bundled to JSON with the pinned Redocly CLI:
    npx -y @redocly/cli@1.34.20 bundle docs/openapi.yaml --ext json -o SPEC.json
Without an argument this script runs that command itself (into a temporary file).

Standard library only. The output depends on the spec alone (document order of paths and
methods, examples as written), so the same spec always gives the same file.

The .http format is the one of VS Code's REST Client and JetBrains' HTTP Client: file
variables (@name = value) first, then the requests, each after a `###` separator line.
- Path parameters become variables ({userId} -> {{userId}}) set once at the top from the
  spec's examples of those parameters.
- Authorization follows the operation's security: userAuth -> Bearer {{token}} (a user's
  access token, `scripts/dev-token 1`), bearerAuth -> Bearer {{adminToken}}; none -> no header.
  A security scheme this script does not know is an error, not a request without credentials.
- Idempotency-Key is sent where the operation declares that header: a fixed key per
  operation, so sending the request again shows the replay (Idempotent-Replayed: true);
  change the key for a new effect.
- The body is the request body's example in the spec (the first one when there are several;
  the others are listed in a comment); with no example, one made of the schema's required
  properties and their examples.
- Query parameters: the required ones, and the optional ones that have a default.
- Webhooks (requests the service sends, not serves) are not requests of this API: skipped.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

REDOCLY_CLI = "@redocly/cli@1.34.20"
METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
# security scheme -> the file variable holding its bearer token
TOKEN_VARS = {"userAuth": "token", "bearerAuth": "adminToken"}
VARIABLE_DEFAULTS = {
    "baseUrl": "http://127.0.0.1:8080",
    "token": "<paste the output of scripts/dev-token 1>",
    "adminToken": "dev-admin-token",
}


def die(msg):
    sys.stderr.write("gen-http: error: %s\n" % msg)
    sys.exit(1)


def load_spec(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        sys.stderr.write(__doc__)
        sys.exit(2 if len(argv) > 2 else 0)
    if len(argv) == 2:
        with open(argv[1], encoding="utf-8") as f:
            return json.load(f)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="gen-http.") as tmp:
        out = os.path.join(tmp, "openapi.json")
        env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
        r = subprocess.run(
            ["npx", "--yes", REDOCLY_CLI, "bundle", os.path.join(root, "docs", "openapi.yaml"),
             "--ext", "json", "-o", out],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout)
            die("redocly bundle failed")
        with open(out, encoding="utf-8") as f:
            return json.load(f)


class Spec:
    def __init__(self, doc):
        self.doc = doc

    def deref(self, node, seen=()):
        """Follow a local $ref (#/components/...) until a non-reference node."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                die("cannot follow $ref %r" % ref)
            seen = seen + (ref,)
            cur = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(cur, dict) or part not in cur:
                    die("dangling $ref %r" % ref)
                cur = cur[part]
            node = cur
        return node

    def schema_example(self, schema, depth=0):
        """An example value for a schema: its example/default/const/first enum, or an object
        of its required properties. None when there is nothing to go on."""
        schema = self.deref(schema)
        if not isinstance(schema, dict) or depth > 8:
            return None
        for key in ("example", "default", "const"):
            if key in schema:
                return schema[key]
        if schema.get("examples"):
            return schema["examples"][0]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(key, []):
                v = self.schema_example(sub, depth + 1)
                if v is not None:
                    return v
        if schema.get("type") == "object" or "properties" in schema:
            obj = {}
            for name in schema.get("required", []):
                prop = schema.get("properties", {}).get(name)
                v = self.schema_example(prop, depth + 1) if prop is not None else None
                if v is None:
                    die("no example for required property %r" % name)
                obj[name] = v
            return obj
        if schema.get("type") == "array":
            v = self.schema_example(schema.get("items", {}), depth + 1)
            return [] if v is None else [v]
        return None

    def param_value(self, param):
        if "example" in param:
            return param["example"]
        if param.get("examples"):
            first = next(iter(param["examples"].values()))
            return self.deref(first).get("value")
        return self.schema_example(param.get("schema", {}))


def operations(spec):
    for path, item in spec.doc.get("paths", {}).items():
        item = spec.deref(item)
        for method in METHODS:
            if method in item:
                yield path, method, item, item[method]


def params_of(spec, item, op):
    """The operation's parameters, path-item ones overridden by the operation's (name, in)."""
    merged = {}
    for p in item.get("parameters", []) + op.get("parameters", []):
        p = spec.deref(p)
        merged[(p["name"], p["in"])] = p
    return list(merged.values())


def fmt_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def main():
    spec = Spec(load_spec(sys.argv))
    info = spec.doc.get("info", {})
    ops = list(operations(spec))
    if not ops:
        die("the spec has no operations")

    # path parameter variables, in order of first appearance
    path_vars = {}
    for path, method, item, op in ops:
        for p in params_of(spec, item, op):
            if p["in"] == "path" and p["name"] not in path_vars:
                v = spec.param_value(p)
                if v is None:
                    die("path parameter %r has no example" % p["name"])
                path_vars[p["name"]] = v
    for name in path_vars:
        if name in VARIABLE_DEFAULTS:
            die("path parameter %r clashes with a file variable" % name)

    out = []
    w = out.append
    w("# %s %s" % (info.get("title", "API"), info.get("version", "")))
    w("# One request per operation of docs/openapi.yaml, for VS Code's REST Client and JetBrains'")
    w("# HTTP Client. Generated by scripts/docs/gen-http.py: do not edit; after changing the spec run")
    w("# scripts/check-docs --rebuild (scripts/check-docs checks that this file is in step).")
    w("#")
    w("# Dev stack (scripts/dev-up): baseUrl is the URL it prints; token is a user's access token,")
    w("# the output of `scripts/dev-token 1` (user 1, valid an hour); adminToken is the admin token")
    w("# of the configuration (COMMERCE_ADMIN_TOKEN, default dev-admin-token). A user route acts")
    w("# for the token's user only: keep userId (and the body's userId) that user's id.")
    w("# Requests that change data (orders, charges, coupons) do so on every send, except that a")
    w("# repeated Idempotency-Key replays the first answer.")
    skipped = sorted(spec.doc.get("webhooks", {}))
    if skipped:
        w("# Not here: the spec's webhooks (%s): requests the service sends, not serves."
          % ", ".join(skipped))
    w("")
    for name, value in VARIABLE_DEFAULTS.items():
        w("@%s = %s" % (name, value))
    for name, value in path_vars.items():
        w("@%s = %s" % (name, fmt_value(value)))

    for path, method, item, op in ops:
        op_id = op.get("operationId") or "%s %s" % (method.upper(), path)
        summary = op.get("summary", "")
        params = params_of(spec, item, op)

        security = op.get("security", spec.doc.get("security", []))
        token_var, who = None, "public, no credentials"
        for requirement in security:
            for scheme in requirement:
                if scheme not in TOKEN_VARS:
                    die("%s: unknown security scheme %r (add it to TOKEN_VARS)" % (op_id, scheme))
                if token_var is not None and TOKEN_VARS[scheme] != token_var:
                    die("%s: more than one security scheme" % op_id)
                token_var = TOKEN_VARS[scheme]
        if token_var == "token":
            who = "user route: that user's access token"
        elif token_var == "adminToken":
            who = "admin route: the admin token, from an allow-listed network"

        url = "{{baseUrl}}" + re.sub(r"\{([^}]+)\}", r"{{\1}}", path)
        query = []
        for p in params:
            if p["in"] != "query":
                continue
            schema = spec.deref(p.get("schema", {}))
            if p.get("required"):
                v = spec.param_value(p)
                if v is None:
                    die("%s: required query parameter %r has no example" % (op_id, p["name"]))
            elif "default" in schema:
                v = schema["default"]
            else:
                continue
            query.append("%s=%s" % (p["name"], fmt_value(v)))
        if query:
            url += "?" + "&".join(query)

        headers = []
        if token_var:
            headers.append("Authorization: Bearer {{%s}}" % token_var)
        idem = any(p["in"] == "header" and p["name"].lower() == "idempotency-key" for p in params)
        if idem:
            headers.append("Idempotency-Key: %s-1" % op_id)
        for p in params:
            if p["in"] == "header" and p.get("required") and p["name"].lower() != "idempotency-key":
                v = spec.param_value(p)
                if v is None:
                    die("%s: required header %r has no example" % (op_id, p["name"]))
                headers.append("%s: %s" % (p["name"], fmt_value(v)))

        body, body_note, others = None, None, []
        rb = spec.deref(op.get("requestBody")) if op.get("requestBody") else None
        if rb:
            content = rb.get("content", {})
            if "application/json" not in content:
                die("%s: request body is not application/json" % op_id)
            media = content["application/json"]
            if "example" in media:
                body = media["example"]
            elif media.get("examples"):
                names = list(media["examples"])
                body = spec.deref(media["examples"][names[0]]).get("value")
                body_note = "example %r" % names[0]
                for n in names[1:]:
                    others.append("%s: %s" % (n, json.dumps(spec.deref(media["examples"][n]).get("value"),
                                                            ensure_ascii=False, separators=(", ", ": "))))
            else:
                body = spec.schema_example(media.get("schema", {}))
                body_note = "no example in the spec: the schema's required properties"
            if body is None:
                die("%s: no example body" % op_id)
            headers.append("Content-Type: application/json")

        w("")
        w("### %s: %s" % (op_id, summary) if summary else "### %s" % op_id)
        tags = ", ".join(op.get("tags", []))
        w("# %s %s (%s%s)" % (method.upper(), path, tags + "; " if tags else "", who))
        if idem:
            w("# Idempotency-Key: sent again with the same body, the stored answer is replayed;")
            w("# change the key for a new effect.")
        if body_note:
            w("# Body: %s." % body_note)
        for o in others:
            w("# Other example: %s" % o)
        w("# @name %s" % re.sub(r"[^A-Za-z0-9_]", "_", op_id))
        w("%s %s" % (method.upper(), url))
        out.extend(headers)
        if body is not None:
            w("")
            out.extend(json.dumps(body, indent=2, ensure_ascii=False).split("\n"))

    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
