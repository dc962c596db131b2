# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading what others could have planted, and the directories the collection writes into."""

import os
import signal
import stat

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason='chown to another user needs root')


@pytest.fixture(autouse=True)
def no_hang():
    """A read that blocks (a FIFO) fails the test instead of hanging the suite."""
    def expire(*_args):
        raise AssertionError('a read blocked')
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def refused(call, *args, **kwargs):
    with pytest.raises(files.Refused) as exc:
        call(*args, **kwargs)
    return files.describe(exc.value)


def test_read_text_refuses_what_is_not_a_regular_file(tmp_path):
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    assert refused(files.read_text, fifo) == '%s is a FIFO (named pipe), not a regular file: not read' % fifo
    zero = str(tmp_path / 'zero')
    os.symlink('/dev/zero', zero)
    assert refused(files.read_text, zero) == '%s is a character device, not a regular file: not read' % zero
    assert refused(files.read_text, str(tmp_path)) == '%s is a directory, not a regular file: not read' % tmp_path


def test_links_are_followed_only_when_asked(tmp_path):
    (tmp_path / 'secret').write_text('root only\n')
    link = str(tmp_path / 'link')
    os.symlink(str(tmp_path / 'secret'), link)
    assert files.read_text(link) == 'root only\n'
    assert refused(files.read_text, link, follow=False) == (
        '%s is a symbolic link, not a regular file: not read (links are not followed there)' % link)


def test_the_size_bound(tmp_path):
    path = tmp_path / 'big'
    path.write_bytes(b'x' * 100)
    assert files.read_text(str(path), limit=100) == 'x' * 100
    assert refused(files.read_text, str(path), limit=99) == '%s is larger than 99 bytes: not read' % path
    assert files.read_text(str(tmp_path / 'none')) is None
    assert files.read_text(str(tmp_path / 'none' / 'deeper'), quiet=True) is None


def test_proc_files_read_whole_without_a_bound():
    with open('/proc/sys/net/ipv4/ip_local_port_range') as handle:
        assert files.read_text('/proc/sys/net/ipv4/ip_local_port_range', limit=None) == handle.read()


def test_a_directory_reads_untrusted_files_through_its_descriptor(tmp_path):
    (tmp_path / 'target').write_text('secret')
    os.symlink(str(tmp_path / 'target'), str(tmp_path / 'link'))
    os.mkfifo(str(tmp_path / 'fifo'))
    with files.Directory.open(str(tmp_path)) as directory:
        assert directory.read('target') == 'secret' and directory.read('missing') is None
        assert refused(directory.read, 'link') == (
            '%s/link is a symbolic link, not a regular file: not read (links are not followed there)' % tmp_path)
        assert refused(directory.read, 'fifo') == '%s/fifo is a FIFO (named pipe), not a regular file: not read' % tmp_path
        assert refused(directory.read, 'target', limit=3) == '%s/target is larger than 3 bytes: not read' % tmp_path


def test_writes_go_where_the_directory_was_opened_even_if_it_is_moved_away(tmp_path):
    (tmp_path / 'out').mkdir()
    directory = files.Directory.open(str(tmp_path / 'out'))
    os.rename(str(tmp_path / 'out'), str(tmp_path / 'moved'))
    os.symlink('/nonexistent-elsewhere', str(tmp_path / 'out'))  # what an attacker would put there now
    directory.replace('report.json', '{}\n')
    directory.close()
    assert (tmp_path / 'moved' / 'report.json').read_text() == '{}\n'
    assert sorted(os.listdir(str(tmp_path / 'moved'))) == ['report.json']  # no temporary file left
    assert stat.S_IMODE(os.stat(str(tmp_path / 'moved' / 'report.json')).st_mode) == 0o644


def test_a_missing_directory_is_made_under_the_walked_one(tmp_path):
    assert files.Directory.open(str(tmp_path / 'a' / 'b')) is None
    with files.Directory.open(str(tmp_path / 'a' / 'b'), create=True) as directory:
        assert directory.created == [str(tmp_path / 'a'), str(tmp_path / 'a' / 'b')]
        assert directory.path == str(tmp_path / 'a' / 'b')
    assert os.path.isdir(str(tmp_path / 'a' / 'b'))


def test_a_link_in_a_directory_only_we_can_change_is_followed(tmp_path):
    (tmp_path / 'real').mkdir()
    os.symlink('real', str(tmp_path / 'alias'))
    with files.Directory.open(str(tmp_path / 'alias')) as directory:
        assert directory.path == str(tmp_path / 'real')


def test_a_file_where_a_directory_should_be(tmp_path):
    (tmp_path / 'file').write_text('')
    assert refused(files.Directory.open, str(tmp_path / 'file' / 'sub')) == '%s/file is a regular file, not a directory' % tmp_path


def test_group_or_world_writable_without_the_sticky_bit_is_refused(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    os.chmod(str(out), 0o775)
    assert refused(files.Directory.open, str(out)) == (
        '%s is writable by its group without the sticky bit: refused as a destination (any of them could put a '
        'link or a file of their own where this run writes)' % out)
    os.chmod(str(out), 0o777)
    assert 'is writable by everyone without the sticky bit' in refused(files.Directory.open, str(out))
    os.chmod(str(out), 0o1777)  # like /tmp
    files.Directory.open(str(out)).close()


@as_root
def test_a_directory_of_another_user_is_refused(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    os.chown(str(out), NOBODY, NOBODY)
    assert refused(files.Directory.open, str(out)) == (
        '%s belongs to uid %d, not to root or this user: refused as a destination (its owner could put a link or '
        'a file of its own where this run writes)' % (out, NOBODY))
    assert refused(files.check_destination, str(out / 'not' / 'yet')).startswith('%s belongs to uid %d' % (out, NOBODY))


@as_root
def test_a_link_another_user_could_have_placed_is_not_followed(tmp_path):
    """Debian's textfile directory: its parent belongs to the exporter's account, which can swap
    the directory for a link to anywhere."""
    parent = tmp_path / 'prometheus'
    parent.mkdir()
    os.chown(str(parent), NOBODY, NOBODY)
    (tmp_path / 'etc').mkdir()
    os.symlink(str(tmp_path / 'etc'), str(parent / 'node-exporter'))
    assert refused(files.Directory.open, str(parent / 'node-exporter')) == (
        '%s/node-exporter is a symbolic link in %s, which another user can change: not followed' % (parent, parent))
    os.remove(str(parent / 'node-exporter'))
    (parent / 'node-exporter').mkdir()  # root's own directory inside theirs: fine, as Debian ships it
    files.Directory.open(str(parent / 'node-exporter')).close()


@as_root
def test_a_destination_used_by_path_is_refused_under_a_directory_another_user_owns(tmp_path):
    """sysctl_tune writes its state, drop-in and record by path: a directory of another user on the
    way could be renamed away and replaced by a link after any check (review of issue 19)."""
    home = tmp_path / 'home-ops'
    (home / 'netops').mkdir(parents=True)
    os.chown(str(home), NOBODY, NOBODY)
    files.Directory.open(str(home / 'netops')).close()  # used through its descriptor: that is safe
    assert refused(files.check_destination, str(home / 'netops' / 'state')) == (
        '%s/netops is in %s, which another user can change: refused as a destination (they could rename it away '
        'and put a link in its place)' % (home, home))
    files.check_destination(str(tmp_path / 'ours' / 'state'))  # /tmp (sticky, root's) and root's own: fine


@as_root
def test_a_link_in_a_sticky_directory_of_another_user_is_not_followed(tmp_path):
    shared = tmp_path / 'shared'
    shared.mkdir()
    (tmp_path / 'real').mkdir()
    os.symlink(str(tmp_path / 'real'), str(shared / 'link'))  # root's link...
    os.chown(str(shared), NOBODY, NOBODY)
    os.chmod(str(shared), 0o1777)  # ...in a sticky directory its owner can still empty
    assert refused(files.Directory.open, str(shared / 'link')).endswith('which another user can change: not followed')
    os.chown(str(shared), 0, 0)  # /tmp: root's sticky directory protects root's link
    files.Directory.open(str(shared / 'link')).close()


@as_root
def test_in_a_directory_others_can_write_only_our_own_files_are_read(tmp_path):
    shared = tmp_path / 'shared'
    shared.mkdir()
    os.chmod(str(shared), 0o1777)
    (shared / 'report.json').write_text('{"forged": true}')
    os.chown(str(shared / 'report.json'), NOBODY, NOBODY)
    with files.Directory.open(str(shared)) as directory:
        assert refused(directory.read, 'report.json') == (
            '%s/report.json belongs to uid %d in a directory others can write: not read as ours' % (shared, NOBODY))
        (shared / 'ours.json').write_text('{}')
        os.link(str(shared / 'ours.json'), str(shared / 'hard'))
        assert refused(directory.read, 'ours.json').endswith('with other links in a directory others can write: '
                                                             'not read as ours')
