package config

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// readFile reads one file into out (a pointer to a raw struct), reporting keys
// the raw struct does not know with their full path.
func readFile(path string, out any, p *problems) bool {
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		p.add(path, "", "", fmt.Sprintf("cannot read: %v", err))
		return false
	}
	upperCaseKeys(path, p)
	settings := v.AllSettings()
	unknownKeys(path, "", settings, reflect.TypeOf(out).Elem(), p)
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           out,
		WeaklyTypedInput: true, // numbers and booleans arrive as strings; validate reads them
		TagName:          "mapstructure",
		DecodeHook:       boolAsWord,
	})
	if err != nil {
		p.add(path, "", "", err.Error())
		return false
	}
	if err := dec.Decode(settings); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
			if line != "" && !strings.HasPrefix(line, "decoding failed") {
				p.add(path, "", "", line)
			}
		}
		return false
	}
	return true
}

// unknownKeys walks a decoded file alongside the raw struct type and reports
// every key the type does not have.
func unknownKeys(path, prefix string, val any, typ reflect.Type, p *problems) {
	switch typ.Kind() {
	case reflect.Struct:
		m, ok := val.(map[string]any)
		if !ok {
			return // the decoder reports the type error
		}
		fields := map[string]reflect.Type{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			fields[f.Tag.Get("mapstructure")] = f.Type
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				p.add(path, join(prefix, k), "", "unknown key")
				continue
			}
			unknownKeys(path, join(prefix, k), m[k], ft, p)
		}
	case reflect.Slice:
		items, ok := val.([]any)
		if !ok {
			return
		}
		for i, item := range items {
			unknownKeys(path, fmt.Sprintf("%s[%d]", prefix, i), item, typ.Elem(), p)
		}
	}
}

// upperCaseKeys reports every key of a file that is not written in lower
// case. Viper lowers keys before anyone sees them, which would make
// "Router-ID" work in t5gw and nowhere else the file is read.
func upperCaseKeys(path string, p *problems) {
	body, err := os.ReadFile(path)
	if err != nil {
		p.add(path, "", "", fmt.Sprintf("cannot read: %v", err))
		return
	}
	var doc yaml.Node
	if yaml.Unmarshal(body, &doc) != nil {
		return // viper read it, so it is another format viper knows
	}
	walkKeys(path, "", &doc, p)
}

func walkKeys(path, prefix string, n *yaml.Node, p *problems) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkKeys(path, prefix, c, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkKeys(path, fmt.Sprintf("%s[%d]", prefix, i), c, p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			field := join(prefix, key)
			if lower := strings.ToLower(key); key != lower {
				p.add(path, field, "", "keys are lower case: write "+lower)
			}
			walkKeys(path, field, n.Content[i+1], p)
		}
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// boolAsWord keeps a YAML boolean readable ("false", not the "0" that weak
// typing would make of it) so that errors show what the file says.
func boolAsWord(from, to reflect.Type, data any) (any, error) {
	if from.Kind() == reflect.Bool && to.Kind() == reflect.String {
		return strconv.FormatBool(data.(bool)), nil
	}
	return data, nil
}
