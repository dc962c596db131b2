# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ss(8)'s TCP state names and the kernel's (and tcp_facts') names for them: one table for every test."""

SS_NAMES = {'ESTAB': 'ESTABLISHED', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECV', 'FIN-WAIT-1': 'FIN_WAIT1',
            'FIN-WAIT-2': 'FIN_WAIT2', 'TIME-WAIT': 'TIME_WAIT', 'UNCONN': 'CLOSE', 'CLOSE-WAIT': 'CLOSE_WAIT',
            'LAST-ACK': 'LAST_ACK', 'LISTEN': 'LISTEN', 'CLOSING': 'CLOSING'}
STATES = list(dict.fromkeys(SS_NAMES.values()))
