// Validates an AsyncAPI document with the official parser (@asyncapi/parser, the library the AsyncAPI CLI uses).
// Usage: node validate-asyncapi.mjs asyncapi.json
// Prints {"errors": [...], "warnings": [...], "others": [...]} as JSON on stdout; exits 1 when any diagnostic
// has severity error, 2 on a usage or read problem.
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const [path] = process.argv.slice(2);
if (!path) {
  console.error("usage: node validate-asyncapi.mjs ASYNCAPI_FILE");
  process.exit(2);
}

const text = await readFile(path, "utf8");
const parser = new Parser();
const diagnostics = await parser.validate(text, { source: path });
const shaped = diagnostics.map((diagnostic) => ({
  code: String(diagnostic.code),
  message: diagnostic.message,
  path: diagnostic.path.map(String),
  severity: diagnostic.severity,
}));
const report = {
  errors: shaped.filter((d) => d.severity === DiagnosticSeverity.Error),
  warnings: shaped.filter((d) => d.severity === DiagnosticSeverity.Warning),
  others: shaped.filter((d) => d.severity > DiagnosticSeverity.Warning),
};
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
process.exit(report.errors.length > 0 ? 1 : 0);
