"""Write an offline Sphinx inventory for the docsite build (scripts/docs.sh).

The plugin pages that antsibull-docs generates link to the Ansible documentation: to a few pages of the
Ansible docsite (for example "common return values") and to ansible.builtin plugins that our docs mention
(seealso, option descriptions). Sphinx resolves those links through intersphinx, whose inventory lives on
docs.ansible.com, which this build cannot reach. Instead of dropping intersphinx (and the links) or making
unresolved references non-fatal, this script writes a local inventory in Sphinx's format, so that the links
resolve to their real docs.ansible.com addresses and any other unresolved reference still fails the build:

* the Ansible docsite labels listed in DOCSITE_LABELS (extend it when a new one is needed);
* one label per ansible.builtin plugin of the installed ansible-core, named as the Ansible docsite names them
  (``ansible_collections.ansible.builtin.<name>_<type>``). References to them are validated before the build,
  by ``antsibull-docs lint-collection-docs --validate-collection-refs dependent``.

Usage: python docs_inventory.py OUTPUT   (run with the interpreter whose ansible-core is documented)
"""

from __future__ import annotations

import os
import sys
import zlib

import ansible

BASE = 'https://docs.ansible.com/projects/ansible/devel/'

# label: (page under BASE, title)
DOCSITE_LABELS = {
    'common_return_values': ('reference_appendices/common_return_values.html', 'Return Values'),
    'ansible_configuration_settings': ('reference_appendices/config.html', 'Ansible Configuration Settings'),
    'list_of_collections': ('collections/index.html', 'Collection Index'),
}

PLUGIN_TYPES = ('become', 'cache', 'callback', 'cliconf', 'connection', 'filter', 'httpapi', 'inventory', 'lookup',
                'netconf', 'shell', 'strategy', 'test', 'vars')


def builtin_plugins():
    """(name, type) of every ansible.builtin plugin shipped with this ansible-core."""
    root = os.path.dirname(ansible.__file__)
    found = set()
    for entry in os.listdir(os.path.join(root, 'modules')):
        if entry.endswith('.py') and not entry.startswith('_'):
            found.add((entry[:-3], 'module'))
    for plugin_type in PLUGIN_TYPES:
        directory = os.path.join(root, 'plugins', plugin_type)
        if not os.path.isdir(directory):
            continue
        for entry in os.listdir(directory):
            stem, ext = os.path.splitext(entry)
            # Filters and tests are documented by YAML files (one per name); other plugins by their .py file.
            wanted = ('.yml', '.yaml') if plugin_type in ('filter', 'test') else ('.py',)
            if ext in wanted and not stem.startswith('_') and stem != '__init__':
                found.add((stem, plugin_type))
    return sorted(found)


def main():
    output = sys.argv[1]
    lines = []
    for label, (page, title) in sorted(DOCSITE_LABELS.items()):
        lines.append('%s std:label -1 %s %s' % (label, page, title))
    for name, plugin_type in builtin_plugins():
        label = 'ansible_collections.ansible.builtin.%s_%s' % (name, plugin_type)
        lines.append('%s std:label -1 collections/ansible/builtin/%s_%s.html ansible.builtin.%s %s'
                     % (label, name, plugin_type, name, plugin_type))
    header = ('# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
              '# The remainder of this file is compressed using zlib.\n')
    with open(output, 'wb') as handle:
        handle.write(header.encode('utf-8'))
        handle.write(zlib.compress(('\n'.join(lines) + '\n').encode('utf-8')))
    print('wrote %s: %d Ansible docsite labels and %d ansible.builtin plugins (links to %s)'
          % (output, len(DOCSITE_LABELS), len(lines) - len(DOCSITE_LABELS), BASE))


if __name__ == '__main__':
    main()
