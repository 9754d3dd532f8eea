"""The shape of an answer, by the contract's machine-readable copy: which operation of the spec
(docs/openapi.yaml bundled to JSON by scripts/check-dev) a request is, whether the status it got
is one the operation documents, and whether the body fits the schema documented for that status
and media type. Standard library only.

The schemas are checked with the keywords the spec uses ($ref, allOf, anyOf, oneOf, type with
null, enum, const, properties, required, items, minimum, maximum, minLength, maxLength,
minItems, maxItems, pattern, format date and date-time); an object may carry no member that its
schema (with all the branches of its allOf, anyOf and oneOf) does not declare, so that a field
the service adds without documenting it fails here.
"""

import json
import re

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)

    def deref(self, node):
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise ValueError("cannot follow $ref %r" % ref)
            seen.add(ref)
            cur = self.doc
            for part in ref[2:].split("/"):
                cur = cur[part.replace("~1", "/").replace("~0", "~")]
            node = cur
        return node

    def operation(self, method, path):
        """(template, operation) of METHOD PATH: a literal segment wins over a {parameter}, as
        the route table orders them. (None, None) when the spec has no such operation."""
        segs = path.split("/")
        best = None
        for template, item in self.doc.get("paths", {}).items():
            tsegs = template.split("/")
            if len(tsegs) != len(segs):
                continue
            params = 0
            for t, s in zip(tsegs, segs):
                if t.startswith("{") and t.endswith("}"):
                    if not s:
                        break
                    params += 1
                elif t != s:
                    break
            else:
                op = self.deref(item).get(method.lower())
                if op is not None and (best is None or params < best[0]):
                    best = (params, template, op)
        return (best[1], best[2]) if best else (None, None)

    def response_schema(self, op, status, media_type):
        """The schema op documents for STATUS and MEDIA_TYPE; raises ValueError saying why when
        it documents no such answer."""
        responses = op.get("responses", {})
        r = responses.get(str(status)) or responses.get("%dXX" % (status // 100)) \
            or responses.get("default")
        if r is None:
            raise ValueError("status %d is not one the operation documents (%s)"
                             % (status, ", ".join(sorted(responses))))
        content = self.deref(r).get("content", {})
        if media_type not in content:
            raise ValueError("status %d documents %s, not %s"
                             % (status, ", ".join(sorted(content)) or "no body", media_type))
        return content[media_type].get("schema", {})

    def declared(self, schema):
        """The member names an object schema declares, over its allOf branches; None when it
        leaves them open (a branch without properties that is not a $ref'd object)."""
        schema = self.deref(schema)
        names = set(schema.get("properties", {}))
        for sub in schema.get("allOf", []):
            more = self.declared(sub)
            if more is None:
                return None
            names |= more
        for key in ("anyOf", "oneOf"):
            for sub in schema.get(key, []):
                more = self.declared(sub)
                if more is None:
                    return None
                names |= more
        if not names and "additionalProperties" not in schema and schema.get("type") == "object":
            return None  # an object of anything
        return names

    def check(self, value, schema, where="$", branch=False):
        """The ways VALUE does not fit SCHEMA: a list of 'path: what' lines (empty: it fits).
        branch: SCHEMA is one branch of an allOf, anyOf or oneOf, whose members the whole
        schema declares (checked there, not here)."""
        schema = self.deref(schema)
        errs = []
        types = schema.get("type")
        if types is not None:
            types = types if isinstance(types, list) else [types]
            if not any(TYPES[t](value) for t in types):
                return ["%s: %s is not %s" % (where, json.dumps(value)[:60], " or ".join(types))]
        if "const" in schema and value != schema["const"]:
            errs.append("%s: %r is not %r" % (where, value, schema["const"]))
        if "enum" in schema and value not in schema["enum"]:
            errs.append("%s: %r is not one of %s" % (where, value, schema["enum"]))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                errs.append("%s: %s < minimum %s" % (where, value, schema["minimum"]))
            if "maximum" in schema and value > schema["maximum"]:
                errs.append("%s: %s > maximum %s" % (where, value, schema["maximum"]))
        if isinstance(value, str):
            if len(value) < schema.get("minLength", 0):
                errs.append("%s: shorter than %d" % (where, schema["minLength"]))
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                errs.append("%s: longer than %d" % (where, schema["maxLength"]))
            if "pattern" in schema and not re.search(schema["pattern"], value):
                errs.append("%s: %r does not match %s" % (where, value, schema["pattern"]))
            fmt = schema.get("format")
            if fmt == "date" and not DATE.match(value):
                errs.append("%s: %r is not a date" % (where, value))
            if fmt == "date-time" and not DATE_TIME.match(value):
                errs.append("%s: %r is not a date-time" % (where, value))
        if isinstance(value, list):
            if len(value) < schema.get("minItems", 0):
                errs.append("%s: fewer than %d items" % (where, schema["minItems"]))
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                errs.append("%s: more than %d items" % (where, schema["maxItems"]))
            if "items" in schema:
                for i, v in enumerate(value):
                    errs += self.check(v, schema["items"], "%s[%d]" % (where, i))
        if isinstance(value, dict):
            for name in schema.get("required", []):
                if name not in value:
                    errs.append("%s: no member %s" % (where, name))
            for name, sub in schema.get("properties", {}).items():
                if name in value:
                    errs += self.check(value[name], sub, "%s.%s" % (where, name))
            declared = None if branch else self.declared(schema)
            if declared is not None and schema.get("additionalProperties") is not True:
                for name in value:
                    if name not in declared:
                        errs.append("%s: member %s is not in the spec" % (where, name))
        for sub in schema.get("allOf", []):
            errs += self.check(value, sub, where, branch=True)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                results = [self.check(value, sub, where, branch=True) for sub in schema[key]]
                fits = sum(1 for r in results if not r)
                if fits == 0 or (key == "oneOf" and fits > 1):
                    errs.append("%s: fits %d of the %d branches of %s" % (where, fits, len(results), key))
        return errs

    def answer(self, method, path, status, media_type, body):
        """The ways an answer differs from the contract: [] when the operation documents STATUS
        with MEDIA_TYPE and BODY (text) fits its schema."""
        template, op = self.operation(method, path)
        if op is None:
            return ["%s %s is no operation of the spec" % (method, path)]
        try:
            schema = self.response_schema(op, status, media_type)
        except ValueError as e:
            return ["%s %s: %s" % (method, template, e)]
        if media_type not in ("application/json", "application/problem+json"):
            return []
        try:
            value = json.loads(body)
        except ValueError as e:
            return ["%s %s: the body is not JSON (%s)" % (method, template, e)]
        return ["%s %s %d: %s" % (method, template, status, e) for e in self.check(value, schema)]
