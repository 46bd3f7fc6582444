using System.CommandLine;
using Cluster.Client.Cli;

namespace Cluster.Client.Commands;

/// <summary>
/// <c>completion bash|zsh|fish</c>: prints a script that makes the shell ask clusterctl for candidates on Tab
/// (<c>clusterctl "[suggest:POSITION]" "LINE"</c>, System.CommandLine's completions; job, node and silo names come
/// from the cluster, within <see cref="ConsoleContext.CompletionTimeout"/>).
/// </summary>
internal static class CompletionCommand
{
    public enum Shell
    {
        Bash,
        Zsh,
        Fish,
    }

    public static Command Create(ConsoleContext context)
    {
        var shell = new Argument<Shell>("shell") { Description = "bash, zsh or fish" };
        var command = new Command("completion", """
            Print the Tab-completion script for a shell. bash: source <(clusterctl completion bash) in ~/.bashrc;
            zsh: clusterctl completion zsh > "${fpath[1]}/_clusterctl"; fish: clusterctl completion fish > ~/.config/fish/completions/clusterctl.fish
            """) { shell };
        command.SetAction(context, (parse, _) =>
        {
            context.WriteRaw(Script(parse.GetValue(shell)));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    public static string Script(Shell shell) => shell switch
    {
        Shell.Zsh => """
            #compdef clusterctl
            # clusterctl completion for zsh: candidates come from clusterctl itself (commands, options, job and node ids).
            _clusterctl() {
              local line="${(j: :)words[1,CURRENT]}"
              local -a candidates
              candidates=("${(@f)$(clusterctl "[suggest:${#line}]" "$line" 2>/dev/null)}")
              compadd -- ${candidates:#}
            }
            compdef _clusterctl clusterctl

            """,
        Shell.Fish => """
            # clusterctl completion for fish: candidates come from clusterctl itself (commands, options, job and node ids).
            function __clusterctl_complete
                set -l line (commandline -cp)
                clusterctl "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null
            end
            complete -c clusterctl -f -a '(__clusterctl_complete)'

            """,
        _ => """
            # clusterctl completion for bash: candidates come from clusterctl itself (commands, options, job and node ids).
            _clusterctl_complete() {
              local IFS=$'\n'
              local line="${COMP_LINE:0:COMP_POINT}"
              local candidates
              candidates=$(clusterctl "[suggest:${#line}]" "$line" 2>/dev/null)
              COMPREPLY=($(compgen -W "$candidates" -- "${COMP_WORDS[COMP_CWORD]}"))
            }
            complete -o default -F _clusterctl_complete clusterctl

            """,
    };
}
