package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// runLuaFile runs a resource customization script the way Argo CD does (util/lua): standard
// libraries off except package, base, table and a "safe" os (time, date, clock), the object as
// the global `obj`, one second to finish, and the script's return value as the result.
func runLuaFile(path string, object map[string]interface{}) (interface{}, error) {
	script, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, lua.OpenOs},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	keepOnly(l, lua.OsLibName, "time", "date", "clock")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, object))
	if err := l.DoString(string(script)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fromLua(l.Get(-1)), nil
}

// keepOnly leaves a library table with only the named functions, as Argo CD's safe os does.
func keepOnly(l *lua.LState, library string, names ...string) {
	full := l.GetGlobal(library).(*lua.LTable)
	safe := l.NewTable()
	for _, name := range names {
		safe.RawSetString(name, full.RawGetString(name))
	}
	l.SetGlobal(library, safe)
}

func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case json.Number:
		number, err := v.Float64()
		if err != nil {
			return lua.LString(v)
		}
		return lua.LNumber(number)
	case string:
		return lua.LString(v)
	case []interface{}:
		table := l.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(l, item))
		}
		return table
	case map[string]interface{}:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(l, item))
		}
		return table
	}
	return lua.LNil
}

// fromLua turns a returned value into JSON-ready data: a table with an array part is a list,
// any other table an object (an empty one encodes as an empty list, as gopher-json does).
func fromLua(value lua.LValue) interface{} {
	switch v := value.(type) {
	case lua.LBool:
		return bool(v)
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		return string(v)
	case *lua.LTable:
		if v.MaxN() > 0 {
			list := make([]interface{}, 0, v.MaxN())
			for i := 1; i <= v.MaxN(); i++ {
				list = append(list, fromLua(v.RawGetInt(i)))
			}
			return list
		}
		object := map[string]interface{}{}
		v.ForEach(func(key, item lua.LValue) { object[key.String()] = fromLua(item) })
		if len(object) == 0 {
			return []interface{}{}
		}
		return object
	}
	return nil
}
