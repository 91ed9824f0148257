import type { Config } from '../../core/config.ts';
import { createOpenAiCompatibleProvider } from './openai-compatible.ts';
import type { LlmProvider } from './provider.ts';
import { noLlm } from './provider.ts';

/** The configured model, or none: without llmBaseUrl and llmModel the chat runs in direct mode only. */
export function llmFromConfig(
  config: Pick<Config, 'llmBaseUrl' | 'llmApiKey' | 'llmModel' | 'llmAzureApiVersion' | 'llmTimeout'>,
): LlmProvider {
  if (!config.llmBaseUrl || !config.llmModel) return noLlm;
  return createOpenAiCompatibleProvider({
    baseUrl: config.llmBaseUrl,
    model: config.llmModel,
    timeoutMs: config.llmTimeout * 1000,
    ...(config.llmApiKey ? { apiKey: config.llmApiKey } : {}),
    ...(config.llmAzureApiVersion ? { azureApiVersion: config.llmAzureApiVersion } : {}),
  });
}
