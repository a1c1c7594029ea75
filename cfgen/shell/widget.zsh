# cfgen's prompt widget for zsh: eval "$(cfgen shell-init zsh)" in ~/.zshrc.
# @KEY@ takes the line as a request and replaces it with the best Bash command; pressing it again shows the
# next one, and after the last the request itself. Nothing is run: the command waits on the line for Enter.
# The request is kept in history. A candidate's first {{placeholder}} is selected. Under the line: "starting
# cfgen..." while a press starts the answerer, then the answer's note (risk flags, placeholders to fill), cleared
# by the next press; the request stays on the line until its answer replaces it.
typeset -ga __cfgen_codes __cfgen_notes
typeset -g __cfgen_shown __cfgen_request
typeset -gi __cfgen_index

__cfgen_widget() {
  emulate -L zsh
  local line=$BUFFER
  if (( ${#__cfgen_codes} )) && [[ $line == "$__cfgen_shown" ]]; then
    __cfgen_index=$(( (__cfgen_index + 1) % (${#__cfgen_codes} + 1) ))
  else
    if [[ -z ${line//[[:space:]]/} ]]; then zle -M "cfgen: type a request first"; return; fi
    local fd state field
    local -a fields
    exec {fd}< <(@PYTHON@ -m cfgen.answering.widget @MODEL_ARGS@ -- "$line" 2>/dev/null)
    IFS= read -r -d '' -u $fd state
    if [[ -n $state ]]; then zle -R "$state"; fi
    while IFS= read -r -d '' -u $fd field; do fields+=("$field"); done
    exec {fd}<&-
    if (( ${#fields} < 3 )) || [[ -n $fields[1] ]]; then
      zle -M "${fields[1]:-cfgen: no answer (is cfgen installed?)}"; return
    fi
    __cfgen_request=$line __cfgen_index=0 __cfgen_codes=() __cfgen_notes=()
    local i
    for (( i = 2; i + 1 <= ${#fields}; i += 2 )); do
      __cfgen_codes+=("$fields[i]") __cfgen_notes+=("$fields[i+1]")
    done
    print -s -- "$line"
  fi
  local code=$__cfgen_request note=
  if (( __cfgen_index < ${#__cfgen_codes} )); then
    code=$__cfgen_codes[__cfgen_index+1] note=$__cfgen_notes[__cfgen_index+1]
  fi
  BUFFER=$code
  __cfgen_shown=$code
  local before=${code%%\{\{*}
  CURSOR=${#before}
  if [[ $before != "$code" ]]; then  # select the {{placeholder}}
    local rest=${code:${#before}}
    local placeholder=${rest%%\}\}*}
    MARK=$(( ${#before} + ${#placeholder} + 2 )) REGION_ACTIVE=1
  fi
  zle -M "${note:+cfgen: $note}"  # an empty message clears the last one
}

zle -N __cfgen_widget
bindkey -M emacs '@KEY@' __cfgen_widget
bindkey -M viins '@KEY@' __cfgen_widget
