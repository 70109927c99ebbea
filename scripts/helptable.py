"""The option table as `crawl --help` prints it, for the generators
(gen-man.py, gen-conf-example.py, gen-completions.py): one entry per option,
its description joined back from the lines --help wraps at 80 columns."""
import re
import subprocess

OPTION = re.compile(r"^  (?:-(\S), |    )--(\S+)(?: ('[^']*'|\S+))?(?:\s{2,}(.*))?$")
CONT = re.compile(r"^ {32}(\S.*)$")


TITLES = {}


def options(crawl):
    """[(short, name, arg, text, cli_only, topic)] in --help order; TITLES maps
    each topic to its title."""
    helptext = subprocess.run([crawl, "--help"], capture_output=True, text=True, check=True).stdout
    out, topic = [], None
    for line in helptext.splitlines():
        t = re.match(r"^(\S.*) \(--help (\S+)\):$", line)
        if t:
            topic = t.group(2)
            TITLES[topic] = t.group(1)
            continue
        m = OPTION.match(line)
        if m and topic:
            short, name, arg, text = m.groups()
            out.append([short, name, arg, text or "", topic])
            continue
        c = CONT.match(line)
        if c and out and topic:
            out[-1][3] = (out[-1][3] + " " + c.group(1)).strip()
    res = []
    for short, name, arg, text, topic in out:
        cli_only = text.endswith(" [command line only]")
        res.append((short, name, arg, text.replace(" [command line only]", ""), cli_only, topic))
    return res
