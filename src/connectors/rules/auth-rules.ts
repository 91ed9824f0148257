import type { ConnectionParameter } from '../model.ts';
import { CONNECTION_PARAMETER_TYPES, findKey, REDIRECT_MODES } from '../normalise.ts';
import type { PathSegment } from '../pointer.ts';
import { fromPointer, isObject, valueAt } from '../pointer.ts';
import type { Finding, Rule, RuleContext } from './types.ts';

/**
 * What each identity provider needs in `customParameters` (connector-format.md §1.3.2). `aad` may rely
 * on the defaults of loginUri (https://login.windows.net) and tenantId (common); resourceUri has none.
 */
export const IDENTITY_PROVIDERS: Readonly<
  Record<string, { readonly required: readonly string[]; readonly note?: string }>
> = {
  aad: { required: ['resourceUri'] },
  aadcertificate: { required: ['resourceUri'] },
  oauth2: { required: ['authorizationUrl', 'tokenUrl'] },
  oauth2generic: { required: ['authorizationUrlTemplate', 'tokenUrlTemplate'] },
};

/** Platform providers with built-in settings Behalf does not have; they import, but need oauth2 settings to run. */
const PLATFORM_ONLY = ['facebook', 'docusign', 'github'];

interface Located {
  readonly param: ConnectionParameter;
  readonly path: PathSegment[];
}

/** Every connection parameter, top level and in parameter sets, with its path in apiProperties.json. */
function* parameters(ctx: RuleContext): Generator<Located> {
  const all = [ctx.model.connectionParameters, ...ctx.model.connectionParameterSets.map((s) => s.parameters)];
  for (const group of all)
    for (const param of Object.values(group)) yield { param, path: fromPointer(param.pointer) };
}

function* oauth(ctx: RuleContext): Generator<Located & { settings: PathSegment[] }> {
  for (const located of parameters(ctx)) {
    if (!located.param.oauth) continue;
    const raw = valueAt(ctx.properties?.value, located.path);
    const key = findKey(raw, 'oAuthSettings')?.key ?? 'oAuthSettings';
    yield { ...located, settings: [...located.path, key] };
  }
}

function rawCustomKey(ctx: RuleContext, settings: PathSegment[], name: string): PathSegment[] {
  const custom = valueAt(ctx.properties?.value, [...settings, 'customParameters']);
  return [...settings, 'customParameters', findKey(custom, name)?.key ?? name];
}

function trim(url: string): string {
  return url.replace(/\/+$/, '');
}

export const AUTH_RULES: readonly Rule[] = [
  {
    id: 'connection.parameter-type',
    severity: 'error',
    fix: `Use one of ${CONNECTION_PARAMETER_TYPES.join(', ')}.`,
    *check(ctx) {
      for (const { param, path } of parameters(ctx))
        if (!(CONNECTION_PARAMETER_TYPES as readonly string[]).includes(param.type))
          yield {
            in: 'properties',
            path: [...path, 'type'],
            message: `Connection parameter "${param.name}" has unknown type ${JSON.stringify(param.type)}.`,
          };
    },
  },
  {
    id: 'connection.oauth-settings',
    severity: 'error',
    fix: 'Add "oAuthSettings": { "identityProvider": "aad", "clientId": "…", "scopes": [], "customParameters": { … } }.',
    *check(ctx) {
      for (const { param, path } of parameters(ctx))
        if (param.type === 'oauthSetting' && !param.oauth)
          yield {
            in: 'properties',
            path,
            message: `Connection parameter "${param.name}" is an oauthSetting without oAuthSettings.`,
          };
    },
  },
  {
    id: 'auth.identity-provider',
    severity: 'error',
    fix: `Use one of ${Object.keys(IDENTITY_PROVIDERS).join(', ')} ("aad" for Entra ID; "oauth2" for any other OAuth 2.0 server).`,
    *check(ctx) {
      for (const { param, settings } of oauth(ctx)) {
        const idp = param.oauth!.identityProvider;
        if (idp !== '' && (Object.hasOwn(IDENTITY_PROVIDERS, idp) || PLATFORM_ONLY.includes(idp))) continue;
        yield {
          in: 'properties',
          path: [...settings, 'identityProvider'],
          message:
            idp === ''
              ? `"${param.name}" names no identity provider.`
              : `Unknown identity provider "${idp}" in "${param.name}".`,
        };
      }
    },
  },
  {
    id: 'auth.platform-provider',
    severity: 'warning',
    fix: 'Switch to "oauth2" with the provider\'s authorizationUrl, tokenUrl and refreshUrl so Behalf can run it.',
    *check(ctx) {
      for (const { param, settings } of oauth(ctx))
        if (PLATFORM_ONLY.includes(param.oauth!.identityProvider))
          yield {
            in: 'properties',
            path: [...settings, 'identityProvider'],
            message: `"${param.oauth!.identityProvider}" is a Power Platform built-in provider; Behalf has no built-in endpoints for it.`,
          };
    },
  },
  {
    id: 'auth.custom-parameter-required',
    severity: 'error',
    fix: 'Add the missing customParameters entry: "<name>": { "value": "…" }.',
    *check(ctx) {
      for (const { param, settings } of oauth(ctx)) {
        const rule = IDENTITY_PROVIDERS[param.oauth!.identityProvider];
        for (const name of rule?.required ?? [])
          if ((param.oauth!.customParameters[name] ?? '').trim() === '')
            yield {
              in: 'properties',
              path: [...settings, 'customParameters'],
              message: `Identity provider "${param.oauth!.identityProvider}" needs customParameters.${name}, which is missing or empty.`,
              fix: `Add "${name}": { "value": "…" } to customParameters.`,
            };
      }
    },
  },
  {
    id: 'auth.redirect-mode',
    severity: 'error',
    fix: `Use one of ${REDIRECT_MODES.join(', ')} (Behalf serves GlobalPerConnector: one redirect URL per connector).`,
    *check(ctx) {
      for (const { param, settings } of oauth(ctx)) {
        const raw = valueAt(ctx.properties?.value, [...settings, 'redirectMode']);
        if (raw !== undefined && param.oauth!.redirectMode === undefined)
          yield {
            in: 'properties',
            path: [...settings, 'redirectMode'],
            message: `Unknown redirectMode ${JSON.stringify(raw)}.`,
          };
      }
    },
  },
  {
    id: 'auth.redirect-per-connector',
    severity: 'info',
    fix: 'Register the redirect URL shown in the connector details on the app registration (Web platform).',
    *check(ctx) {
      for (const { param, settings } of oauth(ctx)) {
        const mode = param.oauth!.redirectMode;
        if (mode !== 'GlobalPerConnector')
          yield {
            in: 'properties',
            path: [...settings, 'redirectMode'],
            message: `redirectMode is ${mode ?? 'absent'}; Behalf gives every connector its own redirect URL (GlobalPerConnector), so the app registration must list that URL instead of ${param.oauth!.redirectUrl ?? 'the global one'}.`,
          };
      }
    },
  },
  {
    id: 'auth.obo-not-supported',
    severity: 'error',
    fix: 'Add "IsOnbehalfofLoginSupported": true under oAuthSettings.properties, or set enableOnbehalfOfLogin to "false".',
    *check(ctx) {
      for (const { param, settings } of oauth(ctx)) {
        const o = param.oauth!;
        if (
          (o.customParameters.enableOnbehalfOfLogin ?? '').toLowerCase() === 'true' &&
          !o.isOnBehalfOfLoginSupported
        )
          yield {
            in: 'properties',
            path: rawCustomKey(ctx, settings, 'enableOnbehalfOfLogin'),
            message:
              'enableOnbehalfOfLogin is "true" but properties.IsOnbehalfofLoginSupported is not true: the on-behalf-of exchange is never used and users get an interactive sign-in instead of SSO.',
          };
      }
    },
  },
  {
    id: 'auth.obo-provider',
    severity: 'warning',
    fix: 'On-behalf-of login needs identityProvider "aad"; remove enableOnbehalfOfLogin or switch the provider.',
    *check(ctx) {
      for (const { param, settings } of oauth(ctx)) {
        const o = param.oauth!;
        if (
          (o.customParameters.enableOnbehalfOfLogin ?? '').toLowerCase() === 'true' &&
          o.identityProvider !== 'aad'
        )
          yield {
            in: 'properties',
            path: rawCustomKey(ctx, settings, 'enableOnbehalfOfLogin'),
            message: `enableOnbehalfOfLogin has no effect with identity provider "${o.identityProvider}".`,
          };
      }
    },
  },
  {
    id: 'auth.resource-trailing-slash',
    severity: 'warning',
    fix: "Write the resource exactly as the API's app registration identifier URI (with or without the trailing slash) in both places.",
    *check(ctx) {
      for (const { param, settings } of oauth(ctx)) {
        const o = param.oauth!;
        const resource = o.customParameters.resourceUri;
        if (o.resourceId === undefined || resource === undefined || o.resourceId === resource) continue;
        if (trim(o.resourceId) === trim(resource))
          yield {
            in: 'properties',
            path: rawCustomKey(ctx, settings, 'resourceUri'),
            message: `resourceUri "${resource}" and properties.AzureActiveDirectoryResourceId "${o.resourceId}" differ only by a trailing slash; Entra matches the resource exactly, so one of them will not match the app registration and token requests fail (AADSTS500011).`,
          };
      }
    },
  },
  {
    id: 'auth.aadcertificate-first-party',
    severity: 'warning',
    fix: 'Use "aad" with a client secret or federated credential; aadcertificate is reserved for Microsoft first-party apps.',
    *check(ctx) {
      for (const { param, settings } of oauth(ctx))
        if (param.oauth!.identityProvider === 'aadcertificate')
          yield {
            in: 'properties',
            path: [...settings, 'identityProvider'],
            message:
              'aadcertificate is a first-party (Microsoft-owned app) provider; Behalf runs it as "aad" with the connector\'s own credential.',
          };
    },
  },
  {
    id: 'auth.client-secret-in-file',
    severity: 'warning',
    fix: 'Remove the secret from the file and pass it with --secret; Behalf stores it encrypted and never returns it.',
    *check(ctx) {
      for (const { param, settings } of oauth(ctx))
        if (param.oauth!.hasClientSecret)
          yield {
            in: 'properties',
            path: [...settings, 'clientSecret'],
            message: 'The file contains a client secret.',
          };
    },
  },
  {
    id: 'properties.root',
    severity: 'error',
    fix: 'Wrap the settings in { "properties": { … } }.',
    *check(ctx) {
      const root = ctx.properties?.value;
      if (ctx.properties && isObject(root) && !isObject(root.properties))
        yield {
          in: 'properties',
          path: ['properties'],
          message: 'apiProperties.json has no "properties" object.',
        };
    },
  },
  {
    id: 'properties.brand-color',
    severity: 'warning',
    fix: 'Set "iconBrandColor" to a #RRGGBB colour.',
    *check(ctx) {
      const root = ctx.properties?.value;
      if (!ctx.properties || !isObject(root) || !isObject(root.properties)) return;
      const color = ctx.model.iconBrandColor;
      if (color === undefined || !/^#[0-9a-f]{6}$/i.test(color))
        yield {
          in: 'properties',
          path: ['properties', 'iconBrandColor'],
          message:
            color === undefined
              ? 'iconBrandColor is missing.'
              : `iconBrandColor "${color}" is not a #RRGGBB colour.`,
        };
    },
  },
];

export type { Finding };
