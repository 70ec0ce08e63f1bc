// Checks live answers against docs/openapi.json: node answers.mjs OPENAPI_JSON ANSWERS_JSON
// ANSWERS_JSON is [{"method", "path" (the document's path template), "status", "body"}]; each
// body must match the schema the document gives that operation's response for that status
// (or "default"), and the status must be documented. Prints one line per mismatch.
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const doc = JSON.parse(readFileSync(process.argv[2], "utf8"));
const answers = JSON.parse(readFileSync(process.argv[3], "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema({ $id: "openapi.json", components: doc.components });

const deref = (o) => {
  for (let i = 0; i < 8 && o && o.$ref; i++)
    o = o.$ref.slice(2).split("/").reduce((t, k) => t[k], doc);
  return o;
};

let bad = 0;
for (const a of answers) {
  const where = `${a.method} ${a.path} → ${a.status}`;
  const op = (doc.paths[a.path] || {})[a.method.toLowerCase()];
  if (!op) {
    console.log(`${where}: no such operation in the document`);
    bad++;
    continue;
  }
  const documented = op.responses[String(a.status)];
  if (!documented) {
    console.log(`${where}: status not documented (only ${Object.keys(op.responses)})`);
    bad++;
    continue;
  }
  const schema = deref(documented)?.content?.["application/json"]?.schema;
  if (a.body === null || schema === undefined) {
    if ((a.body === null) !== (schema === undefined)) {
      console.log(`${where}: body ${a.body === null ? "absent" : "present"}, document says otherwise`);
      bad++;
    }
    continue;
  }
  const s = JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/');
  const validate = ajv.compile(JSON.parse(s));
  if (!validate(a.body)) {
    console.log(`${where}: ${ajv.errorsText(validate.errors)}`);
    bad++;
  }
}
console.log(`openapi answers: ${answers.length} checked, ${bad} mismatch(es)`);
process.exit(bad ? 1 : 0);
