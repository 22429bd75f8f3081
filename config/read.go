package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
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
