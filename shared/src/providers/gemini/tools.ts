import type { JsonObject, ToolChoice, ToolDefinition } from '../../canonical/chat.ts';

/**
 * Tools as Gemini function declarations. The client's JSON Schema goes, unchanged, in
 * `parametersJsonSchema`: Gemini's JSON Schema field, the alternative to `parameters`, which takes
 * only an OpenAPI 3.0 subset and refuses keywords outside it (`additionalProperties`, `$ref`,
 * `const`, type arrays, ... all common in OpenAI-style schemas). Gemini honours a subset of JSON
 * Schema there (types, properties, required, items, enum, anyOf, $ref/$defs, formats, bounds);
 * translating into `parameters` would lose or misstate the rest. An empty schema (`{}`, how OpenAI
 * clients write "no parameters") and a missing one send no schema. `strict` has no Gemini
 * equivalent and is not sent.
 */
export function functionDeclarations(tools: readonly ToolDefinition[]): { functionDeclarations: Record<string, unknown>[] }[] {
  return [
    {
      functionDeclarations: tools.map((t) => ({
        name: t.name,
        ...(t.description !== null ? { description: t.description } : {}),
        ...(hasSchema(t.parameters) ? { parametersJsonSchema: t.parameters } : {}),
      })),
    },
  ];
}

function hasSchema(schema: JsonObject | null): schema is JsonObject {
  return schema !== null && Object.keys(schema).length > 0;
}

/**
 * `tool_choice` as `functionCallingConfig`: auto → AUTO, none → NONE, required → ANY, a named
 * function → ANY limited to that name. Gemini has no switch for parallel calls, so
 * `parallelToolCalls` is not sent.
 */
export function toolConfig(choice: ToolChoice): { functionCallingConfig: Record<string, unknown> } {
  switch (choice.type) {
    case 'auto':
      return { functionCallingConfig: { mode: 'AUTO' } };
    case 'none':
      return { functionCallingConfig: { mode: 'NONE' } };
    case 'required':
      return { functionCallingConfig: { mode: 'ANY' } };
    case 'function':
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
  }
}
