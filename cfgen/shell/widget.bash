# cfgen's prompt widget for bash (4.4 or later): eval "$(cfgen shell-init bash)" in ~/.bashrc.
# @KEY@ takes the line as a request and replaces it with the best Bash command; pressing it again shows the
# next one, and after the last the request itself. Nothing is run: the command waits on the line for Enter.
# The request is kept in history. A candidate's {{placeholder}} gets the cursor.
# What it shows: bash blanks the line while a bound command runs, so the widget draws the prompt and request
# again while it waits, with "starting cfgen..." under them when the press has to start the answerer. A note
# (risk flags, placeholders to fill, why there is no answer) goes above the line, where bash redraws it below;
# the next press erases it while nothing has run since.
__cfgen_noted_rows=0 __cfgen_noted_at=

__cfgen_rows() {  # how many terminal rows TEXT takes at the terminal's width, into __cfgen_n
  local columns=${COLUMNS:-80}
  __cfgen_n=$(( (${#1} + columns - 1) / columns ))
  (( __cfgen_n > 0 )) || __cfgen_n=1
}

__cfgen_command_number() { local number='\#'; __cfgen_number=${number@P}; }

__cfgen_say() {  # a note above the line; bash draws the prompt again below it
  printf '%s\n' "$1" >&2
  __cfgen_rows "$1"
  __cfgen_command_number
  __cfgen_noted_rows=$__cfgen_n __cfgen_noted_at=$__cfgen_number
}

__cfgen_unsay() {  # erase the last note when it is still right above the line (the cursor is at the line's start)
  __cfgen_command_number
  if (( __cfgen_noted_rows )) && [[ $__cfgen_number == "$__cfgen_noted_at" ]]; then
    printf '\e[%dA\r\e[J' "$__cfgen_noted_rows" >&2
  fi
  __cfgen_noted_rows=0
}

__cfgen_prompt() {  # the prompt's last line as drawn (__cfgen_drawn) and its visible characters (__cfgen_visible)
  local prompt=${PS1@P}
  prompt=${prompt##*$'\n'}
  local visible=$prompt
  while [[ $visible == *$'\001'*$'\002'* ]]; do  # \[ … \]: characters the terminal does not show
    visible=${visible%%$'\001'*}${visible#*$'\002'}
  done
  __cfgen_drawn=${prompt//[$'\001\002']/} __cfgen_visible=$visible
}

__cfgen_ask() {  # the answer's fields for REQUEST into __cfgen_fields, the request on screen meanwhile
  local request=$1 fd state rows
  __cfgen_prompt
  printf '%s%s' "$__cfgen_drawn" "$request" >&2
  __cfgen_rows "$__cfgen_visible$request"
  rows=$(( __cfgen_n - 1 ))
  exec {fd}< <(@PYTHON@ -m cfgen.answering.widget @MODEL_ARGS@ -- "$request" 2>/dev/null)
  IFS= read -r -d '' -u "$fd" state
  if [[ -n $state ]]; then
    printf '\n%s' "$state" >&2
    __cfgen_rows "$state"
    rows=$(( rows + __cfgen_n ))
  fi
  mapfile -d '' -u "$fd" __cfgen_fields
  exec {fd}<&-
  if (( rows )); then printf '\e[%dA' "$rows" >&2; fi
  printf '\r\e[J' >&2  # bash draws the line again from here
}

__cfgen_widget() {
  local line=$READLINE_LINE
  __cfgen_unsay
  if (( ${#__cfgen_codes[@]} )) && [[ $line == "${__cfgen_shown-}" ]]; then
    __cfgen_index=$(( (__cfgen_index + 1) % (${#__cfgen_codes[@]} + 1) ))
  else
    if [[ -z ${line//[[:space:]]/} ]]; then __cfgen_say "cfgen: type a request first"; return; fi
    __cfgen_ask "$line"
    local -a fields=("${__cfgen_fields[@]}")
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
