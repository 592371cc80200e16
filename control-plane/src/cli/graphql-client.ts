import type { Config } from '../config.ts';

/** The CLI's client for the GraphQL API (token, apply and export commands). */
export function graphqlClient(config: Config, tokenOption: string | undefined) {
  const url = `${(process.env.TOLLGATE_URL || `http://${config.controlPlaneHost}:${config.controlPlanePort}`).replace(/\/+$/, '')}/graphql`;
  const token = tokenOption ?? process.env.TOLLGATE_TOKEN;
  if (!token) throw new Error('set TOLLGATE_TOKEN (or pass --token) to a management token; tollgate admin create prints the first one');
  const request = async <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    } catch {
      throw new Error(`cannot reach the control plane at ${url}: is Tollgate running? (TOLLGATE_URL chooses another address)`);
    }
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) throw new Error(body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${response.status}`);
    return body.data;
  };
  return {
    request,
    async mutate(field: string, inputType: string, selection: string, input: Record<string, unknown>): Promise<any> {
      const success = `Mutation${field[0]!.toUpperCase()}${field.slice(1)}Success`;
      const data = await request<Record<string, any>>(
        `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { message } ... on ConfirmationRequiredError { warnings } ... on ${success} { data { ${selection} } } } }`,
        { input },
      );
      const payload = data[field];
      if (payload.__typename !== success) throw new Error(`${payload.__typename}: ${payload.message}`);
      return payload.data;
    },
  };
}
