"""A repository rule that wraps a Debian-installed library as a cc_library.

Almanac's build is offline: every library comes from a Debian -dev package. This rule
asks pkg-config for the link flags and defines of the given modules and writes a
BUILD file with one cc_library named after the repository. Headers need no wiring,
since /usr/include is a built-in include directory of the auto-configured toolchain.
"""

def _system_library_impl(ctx):
    linkopts = []
    defines = []
    for module in ctx.attr.modules:
        result = ctx.execute(["pkg-config", "--cflags", "--libs", module])
        if result.return_code != 0:
            fail("pkg-config found no module '%s' (install its Debian -dev package): %s" %
                 (module, result.stderr))
        for flag in result.stdout.strip().split(" "):
            if flag == "" or flag.startswith("-I"):
                continue
            if flag.startswith("-D"):
                if flag[2:] not in defines:
                    defines.append(flag[2:])
            elif flag not in linkopts:
                linkopts.append(flag)
    linkopts.extend(ctx.attr.extra_linkopts)
    ctx.file("BUILD", """package(default_visibility = ["//visibility:public"])

cc_library(
    name = "{name}",
    defines = {defines},
    linkopts = {linkopts},
)
""".format(name = ctx.name, defines = repr(defines), linkopts = repr(linkopts)))

system_library = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        "modules": attr.string_list(mandatory = True),
        "extra_linkopts": attr.string_list(),
    },
    local = True,
)
