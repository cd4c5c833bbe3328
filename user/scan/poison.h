/*
 * Tool poisoning: instructions for the model hidden in what a server says about
 * itself (tools, prompts, resources, resource templates, initialize
 * instructions). Every string of a definition is scanned, JSON Schema included
 * (property names, descriptions, defaults, enum, examples, const, pattern,
 * titles, nested items/properties/anyOf/oneOf/allOf/$defs): hidden instruction
 * blocks, credential-file exfiltration directives, cross-tool shadowing,
 * invisible or tag characters, base64 payloads, padding that pushes text off
 * screen. Scanner name "poisoning". Shares the injection pattern database.
 */
#ifndef MG_POISON_H
#define MG_POISON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "findings.h"

int poison_init(char *err, size_t errlen);
/* One tool object (an element of tools/list's result.tools). Non-zero: poisoned at CONF_HIGH. */
int poison_scan_tool(const cJSON *tool, const char *where, struct findings *out);
/* A list result: "tools/list", "prompts/list", "resources/list", "resources/templates/list",
 * "initialize". Other methods are ignored. */
void poison_scan_result(const char *method, const cJSON *result, struct findings *out);

#endif
