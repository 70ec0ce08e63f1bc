#!/usr/bin/env python3
"""docs/openapi.json against the route table (CTest openapi/routes).

usage: check_routes.py SCIMD_BINARY OPENAPI_JSON

The route list comes from the binary (`scimd routes`: METHOD PATTERN AUTH), never from
parsing C. Every /admin/v1 route must be documented with the same method, path (relative to
the server URL ending in /admin/v1, with the same {param} names) and auth (`x-scimd-auth`),
and nothing may be documented that the route table lacks. Also checks what a client
generator relies on: a unique operationId on every operation, declared path parameters,
and security matching the auth."""
import json
import re
import subprocess
import sys

PREFIX = "/admin/v1"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def routes_of(binary):
    out = subprocess.run([binary, "routes"], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    routes = {}
    for line in out.splitlines():
        method, pattern, auth = line.split(" ")
        if pattern == PREFIX or pattern.startswith(PREFIX + "/"):
            routes[(method, pattern[len(PREFIX):])] = auth
    return routes


def documented(doc, problems):
    ops, ids = {}, {}
    for path, item in doc.get("paths", {}).items():
        shared = [p.get("name") for p in item.get("parameters", []) if "$ref" not in p]
        shared += [ref_name(doc, p) for p in item.get("parameters", []) if "$ref" in p]
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f"{method.upper()} {path}"
            ops[(method.upper(), path)] = op.get("x-scimd-auth")
            opid = op.get("operationId")
            if not opid or not re.fullmatch(r"[a-z][A-Za-z0-9]*", opid):
                problems.append(f"{where}: operationId missing or not lowerCamelCase ({opid!r})")
            elif opid in ids:
                problems.append(f"{where}: operationId {opid} is also used by {ids[opid]}")
            else:
                ids[opid] = where
            names = shared + [p.get("name") if "$ref" not in p else ref_name(doc, p)
                              for p in op.get("parameters", [])]
            for param in re.findall(r"\{([^}]+)\}", path):
                if param not in names:
                    problems.append(f"{where}: path parameter {{{param}}} is not declared")
            auth = op.get("x-scimd-auth")
            security = op.get("security", doc.get("security"))
            if auth == "none" and security != []:
                problems.append(f"{where}: x-scimd-auth none needs \"security\": []")
            if auth in ("host", "tenant", "session") and not security:
                problems.append(f"{where}: x-scimd-auth {auth} needs a security requirement")
            if "responses" not in op:
                problems.append(f"{where}: no responses")
    return ops


def ref_name(doc, p):
    target = doc
    for part in p["$ref"].lstrip("#/").split("/"):
        target = target.get(part, {})
    return target.get("name")


def main(binary, path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    problems = []
    routes = routes_of(binary)
    ops = documented(doc, problems)
    for (method, p), auth in sorted(routes.items()):
        if (method, p) not in ops:
            problems.append(f"{method} {PREFIX}{p}: in the route table, not in {path} "
                            f"(add it under \"paths\" as \"{p}\")")
        elif ops[(method, p)] != auth:
            problems.append(f"{method} {PREFIX}{p}: x-scimd-auth is {ops[(method, p)]!r}, the "
                            f"route table says {auth!r}")
    for (method, p) in sorted(ops):
        if (method, p) not in routes:
            problems.append(f"{method} {p}: documented in {path}, but the route table has no "
                            f"{method} {PREFIX}{p}")
    for line in problems:
        print(line)
    print(f"openapi/routes: {len(routes)} routes, {len(ops)} documented operations, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
