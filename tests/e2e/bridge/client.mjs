// Bridge test driver: the official SDK client talks to server.mjs through
// `mcpguard run`, with mcpguardd placing the server in a session cgroup.
// Prints ok/not ok lines. argv: mcpguard policy listen-host listen-port watched-file
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [mcpguard, policy, host, portStr, watched, scenario] = process.argv.slice(2);
const port = Number(portStr);
const here = dirname(fileURLToPath(import.meta.url));
let failed = 0;
const check = (name, cond, detail = "") => {
	console.log(`${cond ? "ok" : "not ok"} - bridge: ${name}${cond ? "" : ` (${detail})`}`);
	if (!cond) failed++;
};
const text = (r) => (r.content && r.content[0] && r.content[0].text) || JSON.stringify(r);

async function session() {
	const transport = new StdioClientTransport({
		command: mcpguard,
		args: ["run", "--policy", policy, "--", "node", join(here, "server.mjs")],
		env: { ...process.env },
		stderr: "inherit",
	});
	const client = new Client({ name: "bridge-client", version: "1.0.0" });
	await client.connect(transport);
	return client;
}

const serverLog = () => {
	try { return readFileSync(process.env.BRIDGE_SERVER_LOG, "utf8"); } catch { return ""; }
};

if (scenario === "quarantine") {
	const c = await session();
	const before = text(await c.callTool({ name: "probe", arguments: { host, port } }));
	check("server reaches the listener before any verdict", before === "connected", before);
	// A credential in a tool argument: blocked by the proxy, never reaches the server,
	// and the session is quarantined in the kernel.
	const key = "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
		"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
		"QyNTUxOQAAACBMdXJ0c3pPa1ZxWlh2Y2l2M1FmV0RwT0s0d1RoVnF0UwAAAJiqDPtbqgz7\n" +
		"-----END OPENSSH PRIVATE KEY-----\n";
	let blocked = false, msg = "";
	try {
		const r = await c.callTool({ name: "note", arguments: { text: `my key ${key}` } });
		msg = JSON.stringify(r);
		blocked = r.isError === true && /mcpguard/.test(msg);
	} catch (e) {
		msg = String(e);
		blocked = /mcpguard/.test(msg);
	}
	check("credential in a tool argument is blocked with a JSON-RPC error", blocked, msg);
	check("the blocked call never reached the server", !/"tool":"note"/.test(serverLog()),
		serverLog());
	const after = text(await c.callTool({ name: "probe", arguments: { host, port } }));
	check("after the verdict the server's own connect() is refused (EPERM)", after === "EPERM",
		after);
	await c.close();
} else if (scenario === "taint") {
	const c = await session();
	const before = text(await c.callTool({ name: "probe", arguments: { host, port } }));
	check("server reaches the allowed host before reading secrets", before === "connected", before);
	const rd = text(await c.callTool({ name: "load_config", arguments: { path: watched } }));
	check("a watched credential file may be read (audit rule)", /^read \d+ bytes$/.test(rd), rd);
	const after = text(await c.callTool({ name: "probe", arguments: { host, port } }));
	check("after the read, the kernel refuses the server's egress (taint)", after === "EPERM",
		after);
	await c.close();
} else {
	console.log(`not ok - bridge: unknown scenario ${scenario}`);
	failed++;
}
process.exit(failed ? 1 : 0);
