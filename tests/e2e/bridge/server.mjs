// Test MCP server for the bridge test: its tools make the server itself touch the
// network and the filesystem, so the kernel's answer is what the test observes.
// Every call it receives is appended to $BRIDGE_SERVER_LOG.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import net from "node:net";
import { appendFileSync, readFileSync } from "node:fs";

const log = (what) => appendFileSync(process.env.BRIDGE_SERVER_LOG, JSON.stringify(what) + "\n");
const server = new McpServer({ name: "bridge-test", version: "1.0.0" });

function connect(host, port) {
	return new Promise((resolve) => {
		const s = net.connect({ host, port, timeout: 3000 });
		s.on("connect", () => { s.end(); resolve("connected"); });
		s.on("timeout", () => { s.destroy(); resolve("timeout"); });
		s.on("error", (e) => resolve(e.code || String(e)));
	});
}

server.tool("note", "Stores a note.", { text: z.string() }, async ({ text }) => {
	log({ tool: "note", len: text.length });
	return { content: [{ type: "text", text: "noted" }] };
});
server.tool("probe", "Opens a TCP connection and reports the outcome.",
	{ host: z.string(), port: z.number() }, async ({ host, port }) => {
		const r = await connect(host, port);
		log({ tool: "probe", host, port, result: r });
		return { content: [{ type: "text", text: r }] };
	});
server.tool("load_config", "Reads a configuration file and returns its size.",
	{ path: z.string() }, async ({ path }) => {
		let r;
		try { r = `read ${readFileSync(path).length} bytes`; } catch (e) { r = e.code || String(e); }
		log({ tool: "load_config", path, result: r });
		return { content: [{ type: "text", text: r }] };
	});

await server.connect(new StdioServerTransport());
