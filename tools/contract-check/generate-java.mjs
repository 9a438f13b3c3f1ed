// Generates Java classes (Jackson annotations) from reelflow's exported JSON Schema with quicktype's generator,
// quicktype-core: what `quicktype --src-lang schema --lang java --package PACKAGE --array-type list` writes,
// without the CLI's TypeScript and GraphQL inputs (three quarters of its install size).
// Usage: node generate-java.mjs OUT_DIR PACKAGE SCHEMA_URI...
//   e.g. node generate-java.mjs out/java org.example.reelflow \
//          'codegen.schema.json#/$defs/LessonRenderRequested' 'codegen.schema.json#/$defs/RankingRenderRequested'
// Each SCHEMA_URI is one top-level class, named after the last segment of its pointer. Writes one file per class
// and prints their names as JSON; exits 2 on a usage problem.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FetchingJSONSchemaStore, InputData, JSONSchemaInput, quicktypeMultiFile } from "quicktype-core";

const [outDir, packageName, ...uris] = process.argv.slice(2);
if (!outDir || !packageName || uris.length === 0) {
  console.error("usage: node generate-java.mjs OUT_DIR PACKAGE SCHEMA_URI...");
  process.exit(2);
}

const schemaInput = new JSONSchemaInput(new FetchingJSONSchemaStore());
for (const uri of uris) {
  await schemaInput.addSource({ name: uri.split("/").pop(), uris: [uri] });
}
const inputData = new InputData();
inputData.addInput(schemaInput);

const files = await quicktypeMultiFile({
  inputData,
  lang: "java",
  rendererOptions: { package: packageName, "array-type": "list" },
});
await mkdir(outDir, { recursive: true });
const written = [];
for (const [name, result] of files) {
  await writeFile(join(outDir, name), result.lines.join("\n"));
  written.push(name);
}
process.stdout.write(JSON.stringify({ files: written.sort() }) + "\n");
