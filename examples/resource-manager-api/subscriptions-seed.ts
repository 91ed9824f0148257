/**
 * Contoso Resource Manager demo data: subscriptions and who holds which role on them. Seed 000 lists
 * "all subscriptions" as the one operation of its sample connector; ARM returns only the
 * subscriptions on which the caller holds a role assignment.
 */
export interface Subscription {
  readonly subscriptionId: string;
  readonly displayName: string;
  readonly state: 'Enabled' | 'Disabled' | 'Warned';
  readonly quotaId: string;
}

export interface RoleAssignment {
  /** Lower-case UPN (users) or object id (service principals). */
  readonly principal: string;
  readonly subscriptionId: string;
  readonly roleDefinitionName: 'Owner' | 'Contributor' | 'Reader';
}

export interface SubscriptionSeed {
  readonly subscriptions: readonly Subscription[];
  readonly roleAssignments: readonly RoleAssignment[];
}

export function defaultSubscriptionSeed(domain = 'contoso.test'): SubscriptionSeed {
  const production = '3f2b9c1e-7d4a-4f0e-9b6a-1c2d3e4f5a61';
  const development = '8a7b6c5d-4e3f-4a2b-9c1d-0e1f2a3b4c52';
  const sandbox = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e73';
  return {
    subscriptions: [
      {
        subscriptionId: production,
        displayName: 'Contoso Production',
        state: 'Enabled',
        quotaId: 'EnterpriseAgreement_2014-09-01',
      },
      {
        subscriptionId: development,
        displayName: 'Contoso Development',
        state: 'Enabled',
        quotaId: 'MSDN_2014-09-01',
      },
      {
        subscriptionId: sandbox,
        displayName: 'Contoso Sandbox',
        state: 'Warned',
        quotaId: 'FreeTrial_2014-09-01',
      },
    ],
    roleAssignments: [
      { principal: `alice@${domain}`, subscriptionId: production, roleDefinitionName: 'Owner' },
      { principal: `alice@${domain}`, subscriptionId: development, roleDefinitionName: 'Contributor' },
      { principal: `bob@${domain}`, subscriptionId: sandbox, roleDefinitionName: 'Reader' },
    ],
  };
}
