// Validates an OpenAPI document with @seriousme/openapi-schema-validator (the OpenAPI 3.1
// schema, JSON Schema 2020-12), then resolves every $ref: node validate.mjs docs/openapi.json
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
const validator = new Validator({ strict: false });
const res = await validator.validate(file);
if (!res.valid) {
  console.error(`${file}: not a valid OpenAPI document`);
  console.error(JSON.stringify(res.errors, null, 2));
  process.exit(1);
}
if (validator.version !== "3.1") {
  console.error(`${file}: OpenAPI ${validator.version}, expected 3.1`);
  process.exit(1);
}
try {
  validator.resolveRefs();
} catch (e) {
  console.error(`${file}: ${e.message}`);
  process.exit(1);
}
console.log(`openapi/validate: ${file} is a valid OpenAPI ${validator.version} document`);
