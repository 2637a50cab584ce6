import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUsage, wrapText } from '../../src/cli/format/usage.ts';

// Expected outputs are the STDOUT sections of the named golden files.

test('gnt-cluster usage (golden 110)', () => {
  const commands = {
    'activate-master-ip': 'Activates the master IP',
    'add-tags': 'Add tags to the cluster',
    command: 'Runs a command on all (or only some) nodes',
    copyfile: 'Copies a file to all (or only some) nodes',
    'deactivate-master-ip': 'Deactivates the master IP',
    destroy: 'Destroy cluster',
    epo: 'Performs an emergency power-off on given args',
    getmaster: 'Shows the cluster master',
    info: 'Show cluster configuration',
    init: 'Initialises a new cluster configuration',
    'list-tags': 'List the tags of the cluster',
    'master-failover': 'Makes the current node the master',
    'master-ping': 'Checks if the master is alive',
    modify: 'Alters the parameters of the cluster',
    queue: 'Change queue properties',
    'redist-conf': 'Forces a push of the configuration file and ssconf files to the nodes in the cluster',
    'remove-tags': 'Remove tags from the cluster',
    rename: 'Renames the cluster',
    'renew-crypto': 'Renews cluster certificates, keys and secrets',
    'repair-disk-sizes': 'Updates mismatches in recorded disk sizes',
    'search-tags': 'Searches the tags on all objects on the cluster for a given pattern (regex)',
    'show-ispecs-cmd': 'Show the command line to re-create the cluster',
    upgrade: 'Upgrade (or downgrade) to a new Ganeti version',
    verify: 'Does a check on the cluster configuration',
    'verify-disks': 'Does a check on the cluster disk status',
    version: 'Shows the cluster version',
    watcher: 'Change watcher properties',
  };
  assert.deepEqual(formatUsage('gnt-cluster', commands), [
    "Usage: gnt-cluster {command} [options...] [argument...]",
    "gnt-cluster <command> --help to see details, or man gnt-cluster",
    "",
    "Commands:",
    " activate-master-ip   - Activates the master IP",
    " add-tags             - Add tags to the cluster",
    " command              - Runs a command on all (or only some) nodes",
    " copyfile             - Copies a file to all (or only some) nodes",
    " deactivate-master-ip - Deactivates the master IP",
    " destroy              - Destroy cluster",
    " epo                  - Performs an emergency power-off on given args",
    " getmaster            - Shows the cluster master",
    " info                 - Show cluster configuration",
    " init                 - Initialises a new cluster configuration",
    " list-tags            - List the tags of the cluster",
    " master-failover      - Makes the current node the master",
    " master-ping          - Checks if the master is alive",
    " modify               - Alters the parameters of the cluster",
    " queue                - Change queue properties",
    " redist-conf          - Forces a push of the configuration file and ssconf files",
    "                        to the nodes in the cluster",
    " remove-tags          - Remove tags from the cluster",
    " rename               - Renames the cluster",
    " renew-crypto         - Renews cluster certificates, keys and secrets",
    " repair-disk-sizes    - Updates mismatches in recorded disk sizes",
    " search-tags          - Searches the tags on all objects on the cluster for a",
    "                        given pattern (regex)",
    " show-ispecs-cmd      - Show the command line to re-create the cluster",
    " upgrade              - Upgrade (or downgrade) to a new Ganeti version",
    " verify               - Does a check on the cluster configuration",
    " verify-disks         - Does a check on the cluster disk status",
    " version              - Shows the cluster version",
    " watcher              - Change watcher properties",
    "",
  ]);
});

test('gnt-instance usage with multi-line descriptions (golden 109)', () => {
  const commands = {
    startup: 'Starts an instance',
    shutdown: 'Stops an instance',
    'replace-disks': 'Replaces disks for the instance',
    rename: 'Rename the instance',
    'remove-tags': 'Remove tags from given instance',
    remove: 'Shuts down the instance and removes it',
    reinstall: 'Reinstall a stopped instance',
    'recreate-disks': "Recreate an instance's disks",
    reboot: 'Reboots an instance',
    move: 'Move instance to an arbitrary node (only for instances of type file and lv)',
    modify: 'Alters the parameters of an instance',
    migrate: 'Migrate instance to its secondary node (only for mirrored instances)',
    'list-tags': 'List the tags of the given instance',
    'list-fields': 'Lists all available fields for instances',
    list: 'Lists the instances and their status. The available fields can be shown using the "list-fields" ' +
      'command (see the man page for details). The default field list is (in order): name, hypervisor, os, ' +
      'pnode, status, oper_ram.',
    info: 'Show information on the specified instance(s)',
    'grow-disk': "Grow an instance's disk",
    failover: 'Stops the instance, changes its primary node and (if it was originally running) starts it on the ' +
      'new node (the secondary for mirrored instances or any node for shared storage).',
    'deactivate-disks': "Deactivate an instance's disks",
    console: 'Opens a console on the specified instance',
    'change-group': 'Change group of instance',
    'batch-create': 'Create a bunch of instances based on specs in the file.',
    'add-tags': 'Add tags to the given instance',
    add: 'Creates and adds a new instance to the cluster',
    'activate-disks': "Activate an instance's disks",
  };
  assert.deepEqual(formatUsage('gnt-instance', commands), [
    "Usage: gnt-instance {command} [options...] [argument...]",
    "gnt-instance <command> --help to see details, or man gnt-instance",
    "",
    "Commands:",
    " activate-disks   - Activate an instance's disks",
    " add              - Creates and adds a new instance to the cluster",
    " add-tags         - Add tags to the given instance",
    " batch-create     - Create a bunch of instances based on specs in the file.",
    " change-group     - Change group of instance",
    " console          - Opens a console on the specified instance",
    " deactivate-disks - Deactivate an instance's disks",
    " failover         - Stops the instance, changes its primary node and (if it was",
    "                    originally running) starts it on the new node (the secondary",
    "                    for mirrored instances or any node for shared storage).",
    " grow-disk        - Grow an instance's disk",
    " info             - Show information on the specified instance(s)",
    " list             - Lists the instances and their status. The available fields",
    "                    can be shown using the \"list-fields\" command (see the man",
    "                    page for details). The default field list is (in order):",
    "                    name, hypervisor, os, pnode, status, oper_ram.",
    " list-fields      - Lists all available fields for instances",
    " list-tags        - List the tags of the given instance",
    " migrate          - Migrate instance to its secondary node (only for mirrored",
    "                    instances)",
    " modify           - Alters the parameters of an instance",
    " move             - Move instance to an arbitrary node (only for instances of",
    "                    type file and lv)",
    " reboot           - Reboots an instance",
    " recreate-disks   - Recreate an instance's disks",
    " reinstall        - Reinstall a stopped instance",
    " remove           - Shuts down the instance and removes it",
    " remove-tags      - Remove tags from given instance",
    " rename           - Rename the instance",
    " replace-disks    - Replaces disks for the instance",
    " shutdown         - Stops an instance",
    " startup          - Starts an instance",
    "",
  ]);
});

test('wrapText follows textwrap: hyphen breaks, long words, whitespace', () => {
  assert.deepEqual(wrapText('', 10), []);
  assert.deepEqual(wrapText('   ', 10), []);
  assert.deepEqual(wrapText('a long-hyphenated-word here', 12), ['a long-', 'hyphenated-', 'word here']);
  assert.deepEqual(wrapText('supercalifragilistic', 8), ['supercal', 'ifragili', 'stic']);
  assert.deepEqual(wrapText('tab\tand\nnewline  kept', 40), ['tab     and newline  kept']);
  assert.deepEqual(wrapText('  leading space', 40), ['  leading space']);
  assert.deepEqual(wrapText('em--dash words--here', 9), ['em--dash', 'words--', 'here']);
});
