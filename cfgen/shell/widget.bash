# cfgen's prompt widget for bash (4.4 or later): eval "$(cfgen shell-init bash)" in ~/.bashrc.
# @KEY@ takes the line as a request and replaces it with the best Bash command; pressing it again shows the
# next one, and after the last the request itself. Nothing is run: the command waits on the line for Enter.
# The request is kept in history. A candidate's {{placeholder}} gets the cursor; risk flags are printed.
__cfgen_say() { printf '%s\n' "$1" >&2; }

__cfgen_widget() {
  local line=$READLINE_LINE
  if (( ${#__cfgen_codes[@]} )) && [[ $line == "${__cfgen_shown-}" ]]; then
    __cfgen_index=$(( (__cfgen_index + 1) % (${#__cfgen_codes[@]} + 1) ))
  else
    if [[ -z ${line//[[:space:]]/} ]]; then __cfgen_say "cfgen: type a request first"; return; fi
    local -a fields
    mapfile -d '' fields < <(@PYTHON@ -m cfgen.answering.widget @MODEL_ARGS@ -- "$line" 2>/dev/null)
    if (( ${#fields[@]} < 3 )) || [[ -n ${fields[0]} ]]; then
      __cfgen_say "${fields[0]:-cfgen: no answer (is cfgen installed?)}"; return
    fi
    __cfgen_request=$line __cfgen_index=0 __cfgen_codes=() __cfgen_notes=()
    local i
    for (( i = 1; i + 1 < ${#fields[@]} + 1; i += 2 )); do
      __cfgen_codes+=("${fields[i]}") __cfgen_notes+=("${fields[i+1]}")
    done
    history -s -- "$line"
  fi
  local code=$__cfgen_request note=
  if (( __cfgen_index < ${#__cfgen_codes[@]} )); then
    code=${__cfgen_codes[__cfgen_index]} note=${__cfgen_notes[__cfgen_index]}
  fi
  READLINE_LINE=$code
  __cfgen_shown=$code
  local before=${code%%\{\{*}
  READLINE_POINT=${#before}  # on the first {{placeholder}}, else at the end
  if [[ -n $note ]]; then __cfgen_say "cfgen: $note"; fi
}

bind -x '"@KEY@": __cfgen_widget'
