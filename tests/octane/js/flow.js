// Runs the official ALM Octane JavaScript SDK (@microfocus/alm-octane-js-rest-sdk) against a server
// given in the environment (OCTANE_URL, OCTANE_SHARED_SPACE, OCTANE_WORKSPACE, OCTANE_USER,
// OCTANE_PASSWORD): sign in (on the first 401, as the SDK does), read defects with a query,
// create, update, read back, sign out. Prints one line "RESULT {json}" on stdout.
'use strict';

const log4js = require('log4js');
// The SDK logs at debug level; send it to stderr so stdout carries only the result.
log4js.configure({ appenders: { err: { type: 'stderr' } }, categories: { default: { appenders: ['err'], level: 'debug' } } });

const { Octane, Query } = require('@microfocus/alm-octane-js-rest-sdk');

function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

async function main() {
  const env = process.env;
  const octane = new Octane({
    server: env.OCTANE_URL,
    sharedSpace: env.OCTANE_SHARED_SPACE,
    workspace: env.OCTANE_WORKSPACE,
    user: env.OCTANE_USER,
    password: env.OCTANE_PASSWORD,
    headers: { ALM_OCTANE_TECH_PREVIEW: true },
  });

  // No explicit sign-in: the first request gets 401 and the SDK signs in and retries.
  const newPhase = Query.field('phase').equal(Query.field('id').equal('phase.defect.new'));
  const page = await octane.get(Octane.entityTypes.defects).fields('name', 'phase', 'severity')
    .query(newPhase.build()).orderBy('-id').limit(5).execute();
  check(page.total_count > 5, `total_count ${page.total_count}`);
  check(page.data.length === 5, `page size ${page.data.length}`);
  check(page.data.every((d) => d.phase.id === 'phase.defect.new'), 'every defect is New');

  const high = Query.field('severity').equal(Query.field('id').equal('list_node.severity.high'))
    .and(Query.field('release').equal(Query.NULL).not());
  const counted = await octane.get(Octane.entityTypes.defects).query(high.build()).limit(1).execute();
  check(counted.data.length <= 1, 'limit 1');

  const roots = await octane.get(Octane.entityTypes.workItems)
    .query(Query.field('subtype').equal('work_item_root').build()).execute();
  check(roots.total_count === 1, 'one backlog root');

  const created = await octane.create(Octane.entityTypes.defects, {
    name: 'Created by the JS SDK',
    parent: { type: 'work_item', id: roots.data[0].id },
    phase: { type: 'phase', id: 'phase.defect.new' },
    severity: { type: 'list_node', id: 'list_node.severity.high' },
  }).execute();
  check(created.total_count === 1, 'one created');
  const id = created.data[0].id;

  const updated = await octane.update(Octane.entityTypes.defects, { id, name: "Updated by the JS SDK (it's ^fine^)" })
    .execute();
  check(updated.id === id, 'update answers with the entity');

  const fetched = await octane.get(Octane.entityTypes.defects).at(id).fields('name', 'phase', 'is_draft').execute();
  check(fetched.name === "Updated by the JS SDK (it's ^fine^)", `name ${fetched.name}`);

  const byIds = await octane.get(Octane.entityTypes.defects).query(Query.field('id').inComparison([Number(id)]).build())
    .execute();
  check(byIds.total_count === 1, 'found by id IN');

  await octane.updateBulk(Octane.entityTypes.defects, [{ id, phase: { type: 'phase', id: 'phase.defect.opened' } }])
    .execute();
  const reread = await octane.get(Octane.entityTypes.defects).at(id).fields('phase').execute();
  check(reread.phase.id === 'phase.defect.opened', 'bulk update applied');

  await octane.signOut();
  console.log('RESULT ' + JSON.stringify({ total: page.total_count, id, name: fetched.name, draft: fetched.is_draft,
    phase: reread.phase.id }));
}

main().catch((err) => {
  const detail = err && err.response ? ` HTTP ${err.response.status} ${JSON.stringify(err.response.data)}` : '';
  console.error(`FAILED: ${err && err.message}${detail}`);
  process.exit(1);
});
