# cfgen's prompt widget for fish: cfgen shell-init fish | source  (in ~/.config/fish/config.fish).
# @KEY@ takes the line as a request and replaces it with the best Bash command; pressing it again shows the
# next one, and after the last the request itself (fish keeps no line in history that was not run: the key
# brings the request back). Nothing is run: the command waits on the line for Enter. A candidate's first
# {{placeholder}} gets the cursor.
# What it shows: the request stays on the line until its answer replaces it, in place; "starting cfgen..."
# under the line while a press starts the answerer; a note (risk flags, placeholders to fill, why there is no
# answer) above the line, erased by the next press while nothing has run since.
set -g __cfgen_noted_rows 0

function __cfgen_forget_note --on-event fish_preexec --on-event fish_cancel
    set -g __cfgen_noted_rows 0  # the note is no longer right above the line
end

function __cfgen_columns
    if test -n "$COLUMNS"; and test "$COLUMNS" -gt 0
        echo $COLUMNS
    else
        echo 80
    end
end

if string length --visible -- x >/dev/null 2>&1  # fish 3.4 and later do not count terminal escapes
    function __cfgen_width --description 'the columns TEXT takes'
        string length --visible -- "$argv[1]"
    end
else
    function __cfgen_width --description 'the columns TEXT takes'
        string length -- "$argv[1]"
    end
end

function __cfgen_rows --description 'terminal rows TEXT takes'
    set -l width (__cfgen_width "$argv[1]")
    set -l columns (__cfgen_columns)
    set -l rows (math "ceil($width / $columns)")
    test $rows -gt 0; or set rows 1
    echo $rows
end

function __cfgen_column --description 'the column TEXT ends at when it follows the prompt (0: the first)'
    set -l prompt (fish_prompt | string collect | string split \n)[-1]
    math (__cfgen_width "$prompt") + (__cfgen_width "$argv[1]")
end

function __cfgen_cursor_row --description 'the row of the line fish left the cursor on (0: the first)'
    set -l column (__cfgen_column (commandline -c | string collect))
    set -l columns (__cfgen_columns)
    math "floor($column / $columns)"
end

function __cfgen_say --description 'erase the last note if it is right above the line, then show NOTE there'
    # fish draws the prompt again by moving up from the row it left the cursor on: the cursor goes back to
    # that row (relative to the line's new start) before the repaint
    set -l row (__cfgen_cursor_row)
    test $row -gt 0; and printf '\e[%dA' $row >&2
    test $__cfgen_noted_rows -gt 0; and printf '\e[%dA' $__cfgen_noted_rows >&2
    printf '\r\e[J' >&2
    set -g __cfgen_noted_rows 0
    if test -n "$argv[1]"
        printf '%s\n' $argv[1] >&2
        set -g __cfgen_noted_rows (__cfgen_rows "$argv[1]")
    end
    for i in (seq $row)
        printf '\n' >&2
    end
    commandline -f repaint
end

function __cfgen_under --description 'show TEXT under the line, then put the cursor back where fish left it'
    set -l columns (__cfgen_columns)
    set -l all (__cfgen_column (commandline | string collect))
    set -l before (__cfgen_column (commandline -c | string collect))
    set -l down (math "floor($all / $columns) - floor($before / $columns)")
    test $down -gt 0; and printf '\e[%dB' $down >&2
    printf '\n%s' $argv[1] >&2
    printf '\e[%dA\e[%dG' (math $down + (__cfgen_rows "$argv[1]")) (math "$before % $columns + 1") >&2
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
        set -l fields
        @PYTHON@ -m cfgen.answering.widget @MODEL_ARGS@ -- "$line" 2>/dev/null | begin
            read -z -l state
            test -n "$state"; and __cfgen_under "$state"
            while read -z -l field
                set -a fields $field
            end
        end
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
    set -l said ''
    test -n "$note"; and set said "cfgen: $note"
    __cfgen_say $said  # before the line changes: it erases from where the old line starts
    commandline -r -- $code
    set -g __cfgen_shown $code
    set -l before (string split -m1 -- '{{' $code)[1]
    commandline -C (string length -- $before)
end

bind @KEY@ __cfgen_widget
bind -M insert @KEY@ __cfgen_widget 2>/dev/null
