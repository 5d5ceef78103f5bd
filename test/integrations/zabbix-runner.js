// Runs the Zabbix media type script the way Zabbix does: the parameters as one
// JSON string in `value`, a synchronous HttpRequest, Zabbix.log. Prints the
// outcome as JSON. Usage: node zabbix-runner.js SCRIPT_FILE PARAMS_JSON
const { readFileSync } = require('node:fs');
const vm = require('node:vm');
const { execFileSync } = require('node:child_process');

// Zabbix's HttpRequest blocks; so does this stand-in, by doing the request in a child process.
const FETCH = `
let input = '';
process.stdin.on('data', (c) => (input += c)).on('end', async () => {
  const { url, body, headers } = JSON.parse(input);
  const h = {};
  for (const line of headers) { const i = line.indexOf(':'); h[line.slice(0, i).trim()] = line.slice(i + 1).trim(); }
  try {
    const res = await fetch(url, { method: 'POST', headers: h, body });
    process.stdout.write(JSON.stringify({ status: res.status, body: await res.text() }));
  } catch (err) {
    process.stdout.write(JSON.stringify({ status: 0, body: String(err) }));
  }
});`;

function HttpRequest() {
  this.headers = [];
  this.status = 0;
}
HttpRequest.prototype.addHeader = function (header) {
  this.headers.push(header);
};
HttpRequest.prototype.setProxy = function () {};
HttpRequest.prototype.post = function (url, body) {
  const out = execFileSync(process.execPath, ['-e', FETCH], { input: JSON.stringify({ url, body, headers: this.headers }) });
  const answer = JSON.parse(out.toString());
  this.status = answer.status;
  return answer.body;
};
HttpRequest.prototype.getStatus = function () {
  return this.status;
};

const [scriptFile, params] = process.argv.slice(2);
const logs = [];
const sandbox = { value: params, HttpRequest, Zabbix: { log: (level, message) => logs.push({ level, message }) } };
try {
  const result = vm.runInNewContext(`(function (value) {\n${readFileSync(scriptFile, 'utf8')}\n})(value)`, sandbox);
  process.stdout.write(JSON.stringify({ ok: true, result, logs }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error), logs }));
}
