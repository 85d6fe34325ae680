import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditService } from '../audit/audit-service.js';
import type { Principal } from '../auth/principal.js';
import { ADMIN_SCOPE_SET, type Config } from '../config.js';
import { AppError, notFound, StoreConflictError } from '../errors.js';
import { definedOnly } from '../objects.js';
import { scopeList } from '../scopes/scope-catalog.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import type { ClientStore, Page, ResourceRecord } from '../stores/client-store.js';

const resourceFields = {
  identifier: z.string().min(1).max(2000),
  name: z.string().trim().min(1).max(100),
  scope: z.string().max(2000),
  access_token_format: z.enum(['opaque', 'jwt']),
  access_token_ttl: z.number().int().nullable(),
};

/** `POST /resources` (contract section 12). */
export const createResourceSchema = z.strictObject({
  ...resourceFields,
  access_token_ttl: resourceFields.access_token_ttl.optional(),
});

/** `PATCH /resources/{id}`: any field of the create call. */
export const patchResourceSchema = createResourceSchema.partial().strict();

export type CreateResourceInput = z.infer<typeof createResourceSchema>;
export type PatchResourceInput = z.infer<typeof patchResourceSchema>;

/** The resource view: every stored field but the account, which is the caller's. */
export const resourceView = (resource: ResourceRecord) => ({
  id: resource.id,
  identifier: resource.identifier,
  name: resource.name,
  scope: resource.scope,
  access_token_format: resource.access_token_format,
  access_token_ttl: resource.access_token_ttl,
  created_at: resource.created_at,
  updated_at: resource.updated_at,
});

export type ResourceView = ReturnType<typeof resourceView>;

const AUDITED_FIELDS = ['identifier', 'name', 'scope', 'access_token_format', 'access_token_ttl'] as const;

/** Resource servers of an account: the APIs tokens may be issued for (RFC 8707). */
export function createResourceService(deps: {
  config: Config;
  clientStore: ClientStore;
  audit: AuditService;
  /** Runs a write under the account's cache mark, so every node's next token sees it. */
  change: ClientDirectory['change'];
}) {
  const { config, clientStore, audit, change } = deps;

  async function ownResource(principal: Principal, resourceId: string): Promise<ResourceRecord> {
    const resource = await clientStore.getResource(resourceId);
    if (!resource || resource.account_id !== principal.accountId) throw notFound('no such resource');
    return resource;
  }

  /** The contract's rules for a complete candidate: an absolute URI, offered scopes, a bounded lifetime. */
  function check(candidate: ResourceRecord): void {
    let url: URL | undefined;
    try {
      url = new URL(candidate.identifier);
    } catch {
      url = undefined;
    }
    if (!url || candidate.identifier.includes('#')) {
      throw new AppError(400, 'invalid_request', 'identifier must be an absolute URI without a fragment', {
        field: 'identifier',
      });
    }
    const offered = new Set(config.scopeCatalog.names);
    for (const scope of scopeList(candidate.scope)) {
      if (!offered.has(scope) || ADMIN_SCOPE_SET.has(scope)) {
        throw new AppError(400, 'invalid_request', `scope "${scope}" is not an API scope of this server`, {
          field: 'scope',
        });
      }
    }
    const ttl = candidate.access_token_ttl;
    if (ttl !== null && (ttl < 60 || ttl > config.maxAccessTokenTtl)) {
      throw new AppError(
        400,
        'invalid_request',
        `access_token_ttl must be between 60 and ${config.maxAccessTokenTtl}`,
        { field: 'access_token_ttl' },
      );
    }
  }

  /** Runs a store write; a taken identifier is `409 conflict`. */
  async function unique<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof StoreConflictError && error.field === 'identifier') {
        throw new AppError(409, 'conflict', 'a resource with this identifier exists', {
          field: 'identifier',
        });
      }
      throw error;
    }
  }

  return {
    async create(principal: Principal, input: CreateResourceInput): Promise<ResourceView> {
      const now = new Date().toISOString();
      const resource: ResourceRecord = {
        id: `res_${randomBytes(12).toString('base64url')}`,
        account_id: principal.accountId,
        identifier: input.identifier,
        name: input.name,
        scope: scopeList(input.scope).join(' '),
        access_token_format: input.access_token_format,
        access_token_ttl: input.access_token_ttl ?? null,
        created_at: now,
        updated_at: now,
      };
      check(resource);
      await unique(() => change(principal.accountId, () => clientStore.createResource(resource)));
      await audit.record(principal.accountId, principal.actor, 'resource.create', `resource:${resource.id}`, {
        identifier: resource.identifier,
        scope: resource.scope,
        access_token_format: resource.access_token_format,
      });
      return resourceView(resource);
    },

    async list(
      principal: Principal,
      options: { limit: number; cursor?: string },
    ): Promise<Page<ResourceView>> {
      const page = await clientStore.listResources(principal.accountId, options);
      return { data: page.data.map(resourceView), next_cursor: page.next_cursor };
    },

    async get(principal: Principal, resourceId: string): Promise<ResourceView> {
      return resourceView(await ownResource(principal, resourceId));
    },

    async update(principal: Principal, resourceId: string, patch: PatchResourceInput): Promise<ResourceView> {
      const current = await ownResource(principal, resourceId);
      const normalized = definedOnly({
        ...patch,
        ...(patch.scope === undefined ? {} : { scope: scopeList(patch.scope).join(' ') }),
      });
      const changed = AUDITED_FIELDS.filter(
        (field) => normalized[field] !== undefined && normalized[field] !== current[field],
      );
      if (changed.length === 0) return resourceView(current);
      const candidate: ResourceRecord = { ...current, ...normalized, updated_at: new Date().toISOString() };
      check(candidate);
      const updated = await unique(() =>
        change(principal.accountId, () =>
          clientStore.updateResource(resourceId, { ...normalized, updated_at: candidate.updated_at }),
        ),
      );
      if (!updated) throw notFound('no such resource');
      await audit.record(principal.accountId, principal.actor, 'resource.update', `resource:${resourceId}`, {
        fields: [...changed],
      });
      return resourceView(updated);
    },

    async remove(principal: Principal, resourceId: string): Promise<void> {
      const current = await ownResource(principal, resourceId);
      if (!(await change(principal.accountId, () => clientStore.deleteResource(resourceId)))) {
        throw notFound('no such resource');
      }
      await audit.record(principal.accountId, principal.actor, 'resource.delete', `resource:${resourceId}`, {
        identifier: current.identifier,
      });
    },
  };
}

export type ResourceService = ReturnType<typeof createResourceService>;
