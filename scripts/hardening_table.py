# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the hardening suite's outcomes as the RST grid table of docs/docsite/rst/guide_security.rst.

Usage: TERMINOLOGY_RELEASES_HARDENING_OUTCOMES=/tmp/outcomes.jsonl scripts/pytest.sh integration -k hardening
       python3 scripts/hardening_table.py /tmp/outcomes.jsonl
Run-specific details (temporary paths, ports, key fingerprints) are replaced by placeholders.
"""

import json
import re
import sys

PLACEHOLDERS = (
    (re.compile(r'/tmp/\S*/ws/(\w+)/'), r'<\1>/'),
    (re.compile(r'/tmp/pytest-of-\S*/(\.[^/\s]+\.part)'), r'<dest>/\1'),
    (re.compile(r'(https?://127\.0\.0\.1):\d+'), r'\1:<port>'),
    (re.compile(r'port=\d+'), 'port=<port>'),
    (re.compile(r'\b[0-9A-F]{40}\b'), '<fingerprint>'),
    (re.compile(r'\b[0-9a-f]{40}\b'), '<sha1>'),
    (re.compile(r'\b[0-9a-f]{32}\b'), '<md5>'),
    (re.compile(r'only \d+ are free'), 'only <n> are free'),
    (re.compile(r'\.[0-9a-f]{16}\.part'), '.<tag>.part'),
)


def sanitise(text, limit=170):
    for pattern, replacement in PLACEHOLDERS:
        text = pattern.sub(replacement, text)
    text = text.replace('|', '/')
    return text if len(text) <= limit else text[:limit - 3] + '...'


def main(path):
    with open(path, encoding='utf-8') as handle:
        rows = sorted((json.loads(line) for line in handle if line.strip()), key=lambda row: row['index'])
    cells = [('Scenario', 'Fault or input', 'Expected', 'Outcome in the last run')]
    cells += [('``%s``' % row['name'], row['what'], row['expect'], sanitise(row['evidence'])) for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(4)]
    rule = '+' + '+'.join('-' * (width + 2) for width in widths) + '+'
    print(rule)
    for number, row in enumerate(cells):
        print('| ' + ' | '.join(cell.ljust(width) for cell, width in zip(row, widths)) + ' |')
        print(rule.replace('-', '=') if number == 0 else rule)


if __name__ == '__main__':
    main(sys.argv[1])
