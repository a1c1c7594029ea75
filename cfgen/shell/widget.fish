# cfgen's prompt widget for fish: cfgen shell-init fish | source  (in ~/.config/fish/config.fish).
# @KEY@ takes the line as a request and replaces it with the best Bash command; pressing it again shows the
# next one, and after the last the request itself (fish keeps no line in history that was not run: the key
# brings the request back). Nothing is run: the command waits on the line for Enter. A candidate's first
# {{placeholder}} gets the cursor; risk flags show under the line.
function __cfgen_say
    echo >&2
    echo $argv[1] >&2
    commandline -f repaint
end

function __cfgen_widget
    set -l line (commandline | string collect)
    if set -q __cfgen_codes[1]; and test "$line" = "$__cfgen_shown"
        set -l shown (count $__cfgen_codes)
        set -g __cfgen_index (math "($__cfgen_index + 1) % ($shown + 1)")
    else
        if test -z (string trim -- "$line")
            __cfgen_say "cfgen: type a request first"
            return
        end
        set -l fields (@PYTHON@ -m cfgen.answering.widget @MODEL_ARGS@ -- "$line" 2>/dev/null | string split0)
        if test (count $fields) -lt 3; or test -n "$fields[1]"
            if test -n "$fields[1]"
                __cfgen_say $fields[1]
            else
                __cfgen_say "cfgen: no answer (is cfgen installed?)"
            end
            return
        end
        set -g __cfgen_request $line
        set -g __cfgen_index 0
        set -g __cfgen_codes
        set -g __cfgen_notes
        for i in (seq 2 2 (math (count $fields) - 1))
            set -a __cfgen_codes $fields[$i]
            set -a __cfgen_notes $fields[(math $i + 1)]
        end
    end
    set -l code $__cfgen_request
    set -l note ''
    if test $__cfgen_index -lt (count $__cfgen_codes)
        set code $__cfgen_codes[(math $__cfgen_index + 1)]
        set note $__cfgen_notes[(math $__cfgen_index + 1)]
    end
    commandline -r -- $code
    set -g __cfgen_shown $code
    set -l before (string split -m1 -- '{{' $code)[1]
    commandline -C (string length -- $before)
    if test -n "$note"
        __cfgen_say "cfgen: $note"
    end
end

bind @KEY@ __cfgen_widget
bind -M insert @KEY@ __cfgen_widget 2>/dev/null
